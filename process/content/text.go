package content

import (
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
	// buf is the current paragraph; it is reused for the next one.
	buf     []byte
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
			if b <= ' ' || b == 0x7f {
				// Spaces and control characters: \v and the like count
				// as space, the rest vanish.
				if (isSpace(b) || b == '\v' || b == ' ') && len(w.buf) > 0 {
					w.space = true
				}
				i++
				continue
			}
			// A run of printable ASCII is written at once.
			j := i + 1
			for j < len(s) && s[j] > ' ' && s[j] < 0x7f {
				j++
			}
			w.visible()
			w.buf = append(w.buf, s[i:j]...)
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0xC2 && r <= 0xF4 {
			if fixed, n := unmojibake(r, s[i:]); n > 0 {
				r = fixed
				i += n
			}
		}
		switch {
		case r == utf8.RuneError && size == 1:
			continue
		case invisible(r), unicode.IsControl(r):
			continue
		case unicode.IsSpace(r):
			if len(w.buf) > 0 {
				w.space = true
			}
			continue
		}
		w.visible()
		w.buf = utf8.AppendRune(w.buf, r)
	}
}

// cp1252 maps the characters that Windows-1252 gives bytes 0x80-0x9F back
// to those bytes.
var cp1252 = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87,
	'ˆ': 0x88, '‰': 0x89, 'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91,
	'’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98,
	'™': 0x99, 'š': 0x9A, '›': 0x9B, 'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// unmojibake repairs UTF-8 that was decoded once too often as Latin-1 or
// Windows-1252 ("itâ€™s", "itâ\u0080\u0099s" for "it’s", "Â " for a
// no-break space): lead is a character whose Latin-1 byte starts a UTF-8
// sequence, rest the text after it. When the characters that follow give
// the sequence's continuation bytes and the bytes make one valid
// character, it returns that character and the bytes of rest it used;
// else n is 0. Real text almost never has a letter such as "â" followed
// by such characters, and the page's characters are kept as they are then.
func unmojibake(lead rune, rest string) (r rune, n int) {
	var buf [4]byte
	buf[0] = byte(lead)
	need := 1
	switch {
	case lead >= 0xF0:
		need = 3
	case lead >= 0xE0:
		need = 2
	}
	for k := 1; k <= need; k++ {
		c, size := utf8.DecodeRuneInString(rest[n:])
		b, ok := byte(0), false
		switch {
		case c >= 0x80 && c <= 0xBF:
			b, ok = byte(c), true
		case c > 0xFF:
			b, ok = cp1252[c]
		}
		if !ok || b > 0xBF {
			return 0, 0
		}
		buf[k] = b
		n += size
	}
	r, size := utf8.DecodeRune(buf[:need+1])
	if r == utf8.RuneError || size != need+1 {
		return 0, 0
	}
	return r, n
}

// visible is called before a visible character is written.
func (w *textWriter) visible() {
	if len(w.buf) == 0 {
		if len(w.blocks) > 0 {
			w.start = w.blocks[len(w.blocks)-1]
		}
		w.broken = w.brs >= 2
	} else if w.space {
		w.buf = append(w.buf, ' ')
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
	if len(w.buf) > 0 {
		w.paras = append(w.paras, para{text: string(w.buf), node: w.start, whole: !w.broken, tag: tagOf(w.start)})
		for _, b := range w.blocks {
			w.count[b]++
		}
		w.buf = w.buf[:0]
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
	if w.brs >= 2 && len(w.buf) > 0 {
		w.flush()
		w.broken = true
		w.brs = 2
		return
	}
	if len(w.buf) > 0 {
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
		if n.DataAtom != 0 && invisibleTag(n.DataAtom) {
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
	return string(w.buf)
}
