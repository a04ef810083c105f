package content

import (
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// attr returns the value of n's attribute key ("" when absent). The
// process package parses pages without the attributes no stage reads
// (data-*, most aria-*, srcset...: see unreadAttr there): reading a new
// one means taking it off that list.
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// removeNode detaches n from its parent, if it has one.
func removeNode(n *html.Node) {
	if n.Parent != nil {
		n.Parent.RemoveChild(n)
	}
}

// blockTag reports whether a is an element that ends a paragraph of text:
// text on either side of one is never glued together. (A switch: cheaper
// than a map look-up, and it is asked for every element.)
func blockTag(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Body, atom.Caption,
		atom.Center, atom.Dd, atom.Details, atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Dt,
		atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2,
		atom.H3, atom.H4, atom.H5, atom.H6, atom.Header, atom.Hgroup, atom.Hr, atom.Html,
		atom.Legend, atom.Li, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.Option, atom.P,
		atom.Pre, atom.Section, atom.Summary, atom.Table, atom.Tbody, atom.Td, atom.Tfoot,
		atom.Th, atom.Thead, atom.Tr, atom.Ul, atom.Video, atom.Audio, atom.Iframe,
		atom.Noscript, atom.Img, atom.Picture:
		return true
	}
	return false
}

// isBlock reports whether element n breaks the flow of text.
func isBlock(n *html.Node) bool {
	return n.DataAtom != 0 && blockTag(n.DataAtom)
}

// junkTags never hold article text.
var junkTags = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Svg: true, atom.Math: true, atom.Canvas: true,
	atom.Object: true, atom.Embed: true, atom.Applet: true, atom.Audio: true,
	atom.Video: true, atom.Source: true, atom.Track: true, atom.Button: true,
	atom.Input: true, atom.Select: true, atom.Textarea: true, atom.Option: true,
	atom.Nav: true, atom.Dialog: true, atom.Link: true, atom.Meta: true,
	atom.Head: true, atom.Title: true, atom.Base: true, atom.Map: true,
	atom.Area: true, atom.Param: true, atom.Frame: true, atom.Frameset: true,
	atom.Aside: true, atom.Footer: true, atom.Menu: true, atom.Datalist: true, atom.Header: true,
	atom.Output: true, atom.Progress: true, atom.Meter: true,
}

// isSpace reports whether b is an ASCII space as HTML defines it.
func isSpace(b byte) bool {
	return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\f'
}

// invisibleTag reports whether a is an element that holds no text a
// reader sees.
func invisibleTag(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Iframe, atom.Svg,
		atom.Math, atom.Canvas, atom.Object, atom.Embed, atom.Applet, atom.Audio, atom.Video,
		atom.Source, atom.Track, atom.Button, atom.Input, atom.Select, atom.Textarea,
		atom.Option, atom.Link, atom.Meta, atom.Head, atom.Title, atom.Base, atom.Param,
		atom.Frame, atom.Frameset, atom.Datalist:
		return true
	}
	return false
}

// phrasingTag reports whether a is a common inline element, one that
// never marks the article body.
func phrasingTag(a atom.Atom) bool {
	switch a {
	case atom.A, atom.Span, atom.B, atom.I, atom.Em, atom.Strong, atom.Img, atom.Br,
		atom.Small, atom.Sup, atom.Sub, atom.Time, atom.Abbr, atom.Cite, atom.Code, atom.U,
		atom.S, atom.Label, atom.Picture, atom.Source:
		return true
	}
	return false
}
