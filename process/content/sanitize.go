package content

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// allowedTags are the elements kept in Result.HTML; every other element is
// unwrapped (its children kept) or, for junk, dropped.
var allowedTags = map[atom.Atom]bool{
	atom.P: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true,
	atom.H6: true, atom.Ul: true, atom.Ol: true, atom.Li: true,
	atom.Blockquote: true, atom.Pre: true, atom.Code: true, atom.Em: true,
	atom.Strong: true, atom.B: true, atom.I: true, atom.A: true, atom.Img: true,
	atom.Figure: true, atom.Figcaption: true, atom.Table: true,
	atom.Thead: true, atom.Tbody: true, atom.Tfoot: true, atom.Tr: true,
	atom.Td: true, atom.Th: true, atom.Caption: true, atom.Br: true,
}

// voidTags have no end tag.
var voidTags = map[atom.Atom]bool{atom.Img: true, atom.Br: true}

// sanitizer renders a subtree as allow-listed HTML with absolute links.
type sanitizer struct {
	b    strings.Builder
	base *url.URL
	// open is set while a <p> opened for loose inline content is open.
	open bool
}

// sanitize renders nodes as sanitized HTML.
func sanitize(nodes []*html.Node, base *url.URL) string {
	s := &sanitizer{base: base}
	for _, n := range nodes {
		s.node(n, false)
		s.closeLoose()
	}
	return strings.TrimSpace(s.b.String())
}

// closeLoose closes a <p> opened for loose inline content.
func (s *sanitizer) closeLoose() {
	if s.open {
		s.b.WriteString("</p>")
		s.open = false
	}
}

// node renders n. inPara is set when n is inside an element that may hold
// inline content (a kept p, li, heading, cell...), so loose text needs no
// wrapping <p>.
func (s *sanitizer) node(n *html.Node, inPara bool) {
	switch n.Type {
	case html.TextNode:
		if !inPara {
			if strings.TrimSpace(n.Data) == "" {
				if s.open {
					s.b.WriteByte(' ')
				}
				return
			}
			if !s.open {
				s.b.WriteString("<p>")
				s.open = true
			}
		}
		s.text(n.Data)
		return
	case html.ElementNode:
	default:
		return
	}
	a := n.DataAtom
	if a == atom.H1 {
		a = atom.H2
	}
	if a != 0 && invisibleTags[a] {
		return
	}
	if !allowedTags[a] {
		// Unwrapped: a block ends loose content; an inline element joins it.
		if isBlock(n) {
			s.closeLoose()
			s.children(n, false)
			s.closeLoose()
			return
		}
		if !inPara && !s.open && hasVisibleText(n) {
			s.b.WriteString("<p>")
			s.open = true
		}
		s.children(n, inPara || s.open)
		return
	}
	inline := !isBlock(n) && a != atom.Br && a != atom.Img
	if a == atom.Img {
		src := s.imageSource(n)
		if src == "" {
			return
		}
		s.b.WriteString(`<img src="`)
		s.b.WriteString(html.EscapeString(src))
		s.b.WriteByte('"')
		if alt := attr(n, "alt"); alt != "" {
			s.b.WriteString(` alt="`)
			s.b.WriteString(html.EscapeString(normalize(alt)))
			s.b.WriteByte('"')
		}
		s.b.WriteByte('>')
		return
	}
	if a == atom.Br {
		if inPara || s.open {
			s.b.WriteString("<br>")
		}
		return
	}
	if inline && !inPara && !s.open {
		if !hasVisibleText(n) {
			return
		}
		s.b.WriteString("<p>")
		s.open = true
	}
	if !inline {
		s.closeLoose()
	}
	if !inline && !hasVisibleText(n) && !hasImage(n) {
		return
	}
	name := a.String()
	s.b.WriteByte('<')
	s.b.WriteString(name)
	switch a {
	case atom.A:
		if href := s.link(attr(n, "href")); href != "" {
			s.b.WriteString(` href="`)
			s.b.WriteString(html.EscapeString(href))
			s.b.WriteByte('"')
		}
	case atom.Td, atom.Th:
		for _, k := range []string{"colspan", "rowspan"} {
			if v := attr(n, k); v != "" && isDigits(v) {
				s.b.WriteString(" " + k + `="` + v + `"`)
			}
		}
	}
	s.b.WriteByte('>')
	// Containers of blocks hold no loose text of their own.
	holdsInline := a != atom.Ul && a != atom.Ol && a != atom.Table && a != atom.Thead &&
		a != atom.Tbody && a != atom.Tfoot && a != atom.Tr && a != atom.Blockquote && a != atom.Figure
	s.children(n, holdsInline || inPara)
	s.closeLoose()
	s.b.WriteString("</")
	s.b.WriteString(name)
	s.b.WriteByte('>')
}

func (s *sanitizer) children(n *html.Node, inPara bool) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if inPara && c.Type == html.ElementNode && isBlock(c) && !allowedTags[c.DataAtom] {
			// A block inside inline content: keep its text flowing, but
			// never glue words across it.
			s.b.WriteByte(' ')
			s.children(c, true)
			s.b.WriteByte(' ')
			continue
		}
		s.node(c, inPara)
	}
}

// text writes escaped text with white space collapsed and invisible
// characters removed.
func (s *sanitizer) text(t string) {
	lead := len(t) > 0 && isSpace(t[0])
	trail := len(t) > 0 && isSpace(t[len(t)-1])
	t = normalize(t)
	if lead {
		s.b.WriteByte(' ')
	}
	s.b.WriteString(html.EscapeString(t))
	if trail && t != "" {
		s.b.WriteByte(' ')
	}
}

// link makes href absolute and safe: "" for scripts and other schemes.
func (s *sanitizer) link(href string) string {
	href = strings.TrimSpace(href)
	if href == "" {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	if s.base != nil {
		u = s.base.ResolveReference(u)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
	case "":
		if s.base != nil || strings.HasPrefix(href, "#") {
			// resolved against a base without a scheme, or a fragment
		}
		if u.Opaque != "" {
			return ""
		}
	default:
		return ""
	}
	return u.String()
}

// imageSource is n's image URL, absolute and safe, preferring lazy-loading
// attributes over a placeholder src.
func (s *sanitizer) imageSource(n *html.Node) string {
	src := attr(n, "src")
	if src == "" || strings.HasPrefix(src, "data:") {
		for _, k := range []string{"data-src", "data-original", "data-lazy-src", "data-url"} {
			if v := attr(n, k); v != "" {
				src = v
				break
			}
		}
	}
	u := s.link(src)
	if strings.HasPrefix(u, "mailto:") {
		return ""
	}
	return u
}

func isDigits(v string) bool {
	if v == "" || len(v) > 4 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// hasVisibleText reports whether n's subtree has a non-space character.
func hasVisibleText(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			if strings.TrimSpace(c.Data) != "" {
				return true
			}
		case html.ElementNode:
			if !invisibleTags[c.DataAtom] && hasVisibleText(c) {
				return true
			}
		}
	}
	return false
}

// hasImage reports whether n's subtree has an image.
func hasImage(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.DataAtom == atom.Img || hasImage(c)) {
			return true
		}
	}
	return false
}
