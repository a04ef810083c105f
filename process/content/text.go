package content

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// para is one paragraph of text and the block element it came from.
type para struct {
	text string
	node *html.Node
	// whole is set when text is all of node's text, so that dropping the
	// paragraph may drop the node.
	whole bool
	tag   atom.Atom
}

// textWriter turns a DOM subtree into paragraphs: block elements end
// paragraphs, inline elements join their text without adding spaces, runs of
// white space collapse to one space, and invisible characters go.
type textWriter struct {
	buf     strings.Builder
	space   bool // a space is pending before the next visible character
	brs     int  // <br>s since the last visible character
	blocks  []*html.Node
	start   *html.Node // the block element the current paragraph began in
	broken  bool       // the current paragraph was split from its block by <br><br>
	paras   []para
	skipCap bool               // leave out figure captions
	count   map[*html.Node]int // paragraphs per block element
}

// write adds the text of a text node.
func (w *textWriter) write(s string) {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			i++
			if b <= ' ' || b == 0x7f {
				// Spaces and control characters: \v and the like count
				// as space, the rest vanish.
				if (isSpace(b) || b == '\v' || b == ' ') && w.buf.Len() > 0 {
					w.space = true
				}
				continue
			}
			w.visible()
			w.buf.WriteByte(b)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			continue
		case invisible(r), unicode.IsControl(r):
			continue
		case unicode.IsSpace(r):
			if w.buf.Len() > 0 {
				w.space = true
			}
			continue
		}
		w.visible()
		w.buf.WriteRune(r)
	}
}

// visible is called before a visible character is written.
func (w *textWriter) visible() {
	if w.buf.Len() == 0 {
		if len(w.blocks) > 0 {
			w.start = w.blocks[len(w.blocks)-1]
		}
		w.broken = w.brs >= 2
	} else if w.space {
		w.buf.WriteByte(' ')
	}
	w.space = false
	w.brs = 0
}

// invisible reports whether r is a character that only affects layout:
// soft hyphens and zero-width characters.
func invisible(r rune) bool {
	switch r {
	case '\u00AD', '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u180E':
		return true
	}
	return false
}

// flush ends the current paragraph.
func (w *textWriter) flush() {
	if w.buf.Len() > 0 {
		w.paras = append(w.paras, para{text: w.buf.String(), node: w.start, whole: !w.broken, tag: tagOf(w.start)})
		for _, b := range w.blocks {
			w.count[b]++
		}
		w.buf.Reset()
	}
	w.space = false
	w.broken = false
}

func tagOf(n *html.Node) atom.Atom {
	if n == nil {
		return 0
	}
	return n.DataAtom
}

// br handles a line break: one is a space, two in a row end the paragraph.
func (w *textWriter) br() {
	w.brs++
	if w.brs >= 2 && w.buf.Len() > 0 {
		w.flush()
		w.broken = true
		w.brs = 2
		return
	}
	if w.buf.Len() > 0 {
		w.space = true
	}
}

// walk writes the text of n's subtree.
func (w *textWriter) walk(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.write(n.Data)
		return
	case html.ElementNode, html.DocumentNode:
	default:
		return
	}
	if n.Type == html.ElementNode {
		switch n.DataAtom {
		case atom.Br:
			w.br()
			return
		case atom.Figcaption:
			if w.skipCap {
				return
			}
		}
		if n.DataAtom != 0 && invisibleTags[n.DataAtom] {
			return
		}
	}
	block := n.Type == html.ElementNode && isBlock(n)
	if block {
		w.flush()
		w.blocks = append(w.blocks, n)
		w.brs = 0
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	if block {
		w.flush()
		w.blocks = w.blocks[:len(w.blocks)-1]
		w.brs = 0
	}
}

// paragraphs returns the paragraphs of the nodes, in order.
func paragraphs(nodes []*html.Node, skipCaptions bool) []para {
	w := &textWriter{skipCap: skipCaptions, count: make(map[*html.Node]int)}
	for _, n := range nodes {
		w.flush()
		w.walk(n)
		w.flush()
	}
	// A paragraph is the whole of its block only if the block holds no
	// other paragraph.
	for i := range w.paras {
		if p := &w.paras[i]; p.node == nil || w.count[p.node] > 1 {
			p.whole = false
		}
	}
	return w.paras
}

// normalize collapses white space and removes invisible characters in s.
func normalize(s string) string {
	w := &textWriter{}
	w.write(s)
	return w.buf.String()
}
