package content

import (
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// revealStreamed puts the content of a page rendered by streaming React
// (Next.js and others) where a reader sees it. Such a server sends the
// page's shell first, with a <template id="B:n"> where a part is still
// loading, and the part itself later, at the end of <body>, in a
// <div hidden id="S:n"> that a script moves into place. The part is the
// page's real content, often its article: each one replaces its
// placeholder here or, with no placeholder, is only unhidden.
func revealStreamed(body *html.Node) {
	var parts map[string]*html.Node
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Div {
			if id := attr(c, "id"); isStreamID(id, 'S') && hasAttr(c, "hidden") {
				if parts == nil {
					parts = make(map[string]*html.Node)
				}
				parts[id[2:]] = c
			}
		}
	}
	if parts == nil {
		return
	}
	holes := make(map[string]*html.Node)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if id := attr(c, "id"); c.DataAtom == atom.Template && isStreamID(id, 'B') {
				holes[id[2:]] = c
				continue
			}
			walk(c)
		}
	}
	walk(body)
	for k, part := range parts {
		hole := holes[k]
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

// isStreamID reports whether id is kind followed by ":" and digits.
func isStreamID(id string, kind byte) bool {
	return len(id) > 2 && id[0] == kind && id[1] == ':' && isDigits(id[2:])
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
