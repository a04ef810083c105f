package content

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// revealStreamed puts the content of a page rendered by streaming React
// (Next.js and others) where a reader sees it. Such a server sends the
// page's shell first, with a <template id="B:n"> where a Suspense boundary
// is still loading and a <template id="P:n"> where a segment is, and the
// parts themselves later, at the end of <body>, each in a
// <div hidden id="S:n"> that a script moves into place: $RC("B:n","S:m")
// fills a boundary, $RS("S:m","P:n") a segment. Ids are hexadecimal, and a
// part may hold the placeholders of later ones. The parts are the page's
// real content, often its article: each one replaces its placeholder
// here, found by the scripts' calls or else by its number, or, with no
// placeholder, is only unhidden.
func revealStreamed(body *html.Node) {
	var parts map[string]*html.Node
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Div {
			if id := attr(c, "id"); isStreamID(id, 'S') && hasAttr(c, "hidden") {
				if parts == nil {
					parts = make(map[string]*html.Node)
				}
				parts[id] = c
			}
		}
	}
	if parts == nil {
		return
	}
	holes := make(map[string]*html.Node)
	target := make(map[string]string) // part id -> placeholder id, from the scripts
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.DataAtom {
			case atom.Template:
				if id := attr(c, "id"); isStreamID(id, 'B') || isStreamID(id, 'P') {
					holes[id] = c
				}
				continue
			case atom.Script:
				if c.FirstChild != nil && c.FirstChild.Type == html.TextNode {
					streamCalls(c.FirstChild.Data, target)
				}
				continue
			}
			walk(c)
		}
	}
	walk(body)
	for id, part := range parts {
		hole := holes[target[id]]
		if hole == nil {
			if hole = holes["P"+id[1:]]; hole == nil {
				hole = holes["B"+id[1:]]
			}
		}
		if hole == nil || hole.Parent == nil || isAncestor(part, hole) {
			removeAttr(part, "hidden")
			continue
		}
		for m := part.FirstChild; m != nil; m = part.FirstChild {
			part.RemoveChild(m)
			hole.Parent.InsertBefore(m, hole)
		}
		removeNode(hole)
		removeNode(part)
	}
}

// streamCalls reads the calls $RC("B:n","S:m") and $RS("S:m","P:n") in
// script src into target, which maps a part's id to its placeholder's.
func streamCalls(src string, target map[string]string) {
	for {
		i := strings.Index(src, "$R")
		if i < 0 || i+3 >= len(src) {
			return
		}
		src = src[i+2:]
		if (src[0] != 'C' && src[0] != 'S') || src[1] != '(' {
			continue
		}
		a, rest, ok := quoted(src[2:])
		if !ok || len(rest) == 0 || rest[0] != ',' {
			continue
		}
		b, _, ok := quoted(rest[1:])
		if !ok {
			continue
		}
		switch {
		case src[0] == 'C' && isStreamID(a, 'B') && isStreamID(b, 'S'):
			target[b] = a
		case src[0] == 'S' && isStreamID(a, 'S') && isStreamID(b, 'P'):
			target[a] = b
		}
	}
}

// quoted returns the string in double quotes at the start of s and what
// follows it.
func quoted(s string) (string, string, bool) {
	if len(s) < 2 || s[0] != '"' {
		return "", s, false
	}
	j := strings.IndexByte(s[1:], '"')
	if j < 0 {
		return "", s, false
	}
	return s[1 : 1+j], s[2+j:], true
}

// isStreamID reports whether id is kind followed by ":" and a hexadecimal
// number, as React writes them.
func isStreamID(id string, kind byte) bool {
	if len(id) <= 2 || id[0] != kind || id[1] != ':' {
		return false
	}
	for i := 2; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return true
		}
	}
	return false
}

func removeAttr(n *html.Node, key string) {
	kept := n.Attr[:0]
	for _, a := range n.Attr {
		if a.Namespace != "" || a.Key != key {
			kept = append(kept, a)
		}
	}
	n.Attr = kept
}
