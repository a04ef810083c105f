package content

import (
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// attr returns the value of n's attribute key ("" when absent).
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

// blockTags are the elements that end a paragraph of text: text on either
// side of one of them is never glued together.
var blockTags = map[atom.Atom]bool{
	atom.Address: true, atom.Article: true, atom.Aside: true, atom.Blockquote: true,
	atom.Body: true, atom.Caption: true, atom.Center: true, atom.Dd: true,
	atom.Details: true, atom.Dialog: true, atom.Dir: true, atom.Div: true,
	atom.Dl: true, atom.Dt: true, atom.Fieldset: true, atom.Figcaption: true,
	atom.Figure: true, atom.Footer: true, atom.Form: true, atom.H1: true,
	atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Header: true, atom.Hgroup: true, atom.Hr: true, atom.Html: true,
	atom.Legend: true, atom.Li: true, atom.Main: true, atom.Menu: true,
	atom.Nav: true, atom.Ol: true, atom.Option: true, atom.P: true, atom.Pre: true,
	atom.Section: true, atom.Summary: true, atom.Table: true, atom.Tbody: true,
	atom.Td: true, atom.Tfoot: true, atom.Th: true, atom.Thead: true, atom.Tr: true,
	atom.Ul: true, atom.Video: true, atom.Audio: true, atom.Iframe: true,
	atom.Noscript: true, atom.Img: true, atom.Picture: true,
}

// isBlock reports whether element n breaks the flow of text.
func isBlock(n *html.Node) bool {
	if n.DataAtom != 0 {
		return blockTags[n.DataAtom]
	}
	return false
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

// invisibleTags hold no text a reader sees.
var invisibleTags = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Iframe: true, atom.Svg: true, atom.Math: true, atom.Canvas: true,
	atom.Object: true, atom.Embed: true, atom.Applet: true, atom.Audio: true,
	atom.Video: true, atom.Source: true, atom.Track: true, atom.Button: true,
	atom.Input: true, atom.Select: true, atom.Textarea: true, atom.Option: true,
	atom.Link: true, atom.Meta: true, atom.Head: true, atom.Title: true,
	atom.Base: true, atom.Param: true, atom.Frame: true, atom.Frameset: true,
	atom.Datalist: true,
}

// phrasing are common inline elements that never mark the article body.
var phrasing = map[atom.Atom]bool{
	atom.A: true, atom.Span: true, atom.B: true, atom.I: true, atom.Em: true,
	atom.Strong: true, atom.Img: true, atom.Br: true, atom.Small: true,
	atom.Sup: true, atom.Sub: true, atom.Time: true, atom.Abbr: true,
	atom.Cite: true, atom.Code: true, atom.U: true, atom.S: true,
	atom.Label: true, atom.Picture: true, atom.Source: true,
}
