package content

import (
	"bytes"
	"net/url"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

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

// sanitizer renders a subtree as allow-listed HTML with absolute links.
type sanitizer struct {
	b    []byte
	base *url.URL
	// open is set while a <p> opened for loose inline content is open;
	// brs counts the <br>s held back inside it.
	open bool
	brs  int
	// fresh is set right after a block's opening tag: no space is due.
	fresh bool
	// lists and tables count the open <ul>/<ol> and <table> elements, so
	// that a <li> or a cell outside one is unwrapped.
	lists, tables, figures int
	// norm normalizes each text node (see normalize), in a buffer that
	// the next one reuses.
	norm textWriter
}

// sanitize renders nodes as sanitized HTML.
func sanitize(nodes []*html.Node, base *url.URL) string {
	s := sanitizerPool.Get().(*sanitizer)
	*s = sanitizer{b: s.b[:0], base: base, norm: textWriter{buf: s.norm.buf[:0]}}
	for _, n := range nodes {
		s.node(n, false)
		s.closeLoose()
	}
	out := string(bytes.TrimSpace(s.b))
	if cap(s.b) <= maxPooledHTML {
		s.base = nil
		sanitizerPool.Put(s)
	}
	return out
}

// sanitizerPool keeps the buffers of finished sanitizers for the next
// pages: the HTML is written a piece at a time, and a fresh buffer would
// be grown many times over for each page.
var sanitizerPool = sync.Pool{New: func() any { return new(sanitizer) }}

// maxPooledHTML is the largest buffer kept for reuse.
const maxPooledHTML = 1 << 20

func (s *sanitizer) write(str string) { s.b = append(s.b, str...) }

// space writes one space unless the output already ends with one or with
// an opening tag of a block.
func (s *sanitizer) space() {
	if len(s.b) == 0 || s.b[len(s.b)-1] == ' ' || s.brs > 0 || s.fresh {
		return
	}
	s.b = append(s.b, ' ')
}

// closeLoose closes a <p> opened for loose inline content.
func (s *sanitizer) closeLoose() {
	if s.open {
		s.b = bytes.TrimRight(s.b, " ")
		s.write("</p>")
		s.open = false
	}
	s.brs = 0
}

// openLoose opens a <p> for loose inline content, or, with <br>s held
// back, writes them: two or more end the loose paragraph and start another.
func (s *sanitizer) openLoose() {
	if s.open && s.brs > 0 {
		if s.brs >= 2 {
			s.closeLoose()
		} else {
			s.b = bytes.TrimRight(s.b, " ")
			s.write("<br>")
			s.brs = 0
		}
	}
	if !s.open {
		s.write("<p>")
		s.open = true
		s.fresh = true
	}
}

// node renders n. inPara is set when n is inside an element that holds
// inline content (a kept p, li, heading, cell...), so that loose text needs
// no wrapping <p>.
func (s *sanitizer) node(n *html.Node, inPara bool) {
	switch n.Type {
	case html.TextNode:
		if !hasVisible(n.Data) {
			if inPara || s.open {
				s.space()
			}
			return
		}
		if !inPara {
			s.openLoose()
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
	if a != 0 && invisibleTag(a) {
		return
	}
	keep := allowedTags[a]
	switch a {
	case atom.Li:
		keep = s.lists > 0
	case atom.Tr, atom.Td, atom.Th, atom.Thead, atom.Tbody, atom.Tfoot, atom.Caption:
		keep = s.tables > 0
	case atom.Figcaption:
		keep = s.figures > 0
	}
	block := isBlock(n)
	if !keep {
		// Unwrapped: a block ends loose content; an inline element joins it.
		if block {
			if inPara {
				s.space()
				s.children(n, true)
				s.space()
				return
			}
			s.closeLoose()
			s.children(n, false)
			s.closeLoose()
			return
		}
		s.children(n, inPara)
		return
	}
	switch a {
	case atom.Img:
		src := s.imageSource(n)
		if src == "" {
			return
		}
		if !inPara && s.figures == 0 {
			s.openLoose()
		}
		s.write(`<img src="`)
		s.write(html.EscapeString(src))
		s.write(`"`)
		if alt := attr(n, "alt"); alt != "" {
			s.write(` alt="`)
			s.write(html.EscapeString(normalize(alt)))
			s.write(`"`)
		}
		s.write(">")
		s.fresh = false
		return
	case atom.Br:
		switch {
		case inPara:
			s.b = bytes.TrimRight(s.b, " ")
			s.write("<br>")
		case s.open:
			s.brs++
		}
		return
	}
	inline := !block
	if inline {
		if !hasVisibleText(n) {
			return
		}
		if !inPara {
			s.openLoose()
		}
	} else {
		if inPara {
			// An allowed block inside inline content: keep its text.
			s.space()
			s.children(n, true)
			s.space()
			return
		}
		s.closeLoose()
		if !hasVisibleText(n) && !hasImage(n) {
			return
		}
	}
	name := a.String()
	s.write("<" + name)
	switch a {
	case atom.A:
		if href := s.link(attr(n, "href")); href != "" {
			s.write(` href="`)
			s.write(html.EscapeString(href))
			s.write(`"`)
		}
	case atom.Td, atom.Th:
		for _, k := range []string{"colspan", "rowspan"} {
			if v := attr(n, k); v != "" && isDigits(v) {
				s.write(" " + k + `="` + v + `"`)
			}
		}
	}
	s.write(">")
	if !inline {
		s.fresh = true
	}
	// The counts are restored after the children (no defer: it would
	// cost every call of this recursive function).
	switch a {
	case atom.Ul, atom.Ol:
		s.lists++
	case atom.Table:
		s.tables++
	case atom.Figure:
		s.figures++
	}
	// Containers of blocks hold no loose text of their own.
	holdsInline := a != atom.Ul && a != atom.Ol && a != atom.Table && a != atom.Thead &&
		a != atom.Tbody && a != atom.Tfoot && a != atom.Tr && a != atom.Blockquote && a != atom.Figure
	s.children(n, holdsInline || inPara)
	switch a {
	case atom.Ul, atom.Ol:
		s.lists--
	case atom.Table:
		s.tables--
	case atom.Figure:
		s.figures--
	}
	if !inline {
		s.closeLoose()
		s.b = bytes.TrimRight(s.b, " ")
	}
	s.write("</" + name + ">")
}

func (s *sanitizer) children(n *html.Node, inPara bool) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		s.node(c, inPara)
	}
}

// text writes escaped text with white space collapsed and invisible
// characters removed.
func (s *sanitizer) text(t string) {
	first, _ := utf8.DecodeRuneInString(t)
	last, _ := utf8.DecodeLastRuneInString(t)
	lead, trail := unicode.IsSpace(first), unicode.IsSpace(last)
	s.norm = textWriter{buf: s.norm.buf[:0]}
	s.norm.write(t)
	n := s.norm.buf
	if lead {
		s.space()
	}
	s.b = appendEscaped(s.b, n)
	if len(n) > 0 {
		s.fresh = false
	}
	if trail && len(n) > 0 {
		s.space()
	}
}

// appendEscaped appends text to b escaped as html.EscapeString escapes it.
func appendEscaped(b, text []byte) []byte {
	for {
		i := bytes.IndexAny(text, "&'<>\"\r")
		if i < 0 {
			return append(b, text...)
		}
		b = append(b, text[:i]...)
		switch text[i] {
		case '&':
			b = append(b, "&amp;"...)
		case '\'':
			b = append(b, "&#39;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&#34;"...)
		case '\r':
			b = append(b, "&#13;"...)
		}
		text = text[i+1:]
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
		// A relative link that no base could resolve stays relative.
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
			if !invisibleTag(c.DataAtom) && hasVisibleText(c) {
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
