package content

import (
	"strings"
	"sync"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// stat is what one bottom-up pass learns about an element's subtree. Text
// is counted in bytes of non-space characters, which is cheap and good
// enough to compare elements of one page.
type stat struct {
	text    int   // all text
	link    int   // text inside <a>
	inline  int   // text not inside a block-level descendant
	commas  int   // commas in all text
	ptext   int   // text in paragraphs (see runningText) that are not mostly links
	icomma  int   // commas in the inline text
	ps      int   // <p> descendants
	imgs    int   // <img> descendants
	lheads  int   // forms, and headings that are mostly a link (story teasers)
	btext   int   // text outside ptext in list items, headings, cells and quotes that are not mostly links
	heavy   bool  // holds a <main>, itemprop=articleBody or article-body class element
	weight  int8  // classWeight of the element's class and id
	flags   uint8 // classFlags of the element's class and id
	weighed bool
	marker  bool // see stats.marker
	scored  bool // next to the other small fields: a smaller stat
	score   float64
}

// minHeavy is the least text, in non-space bytes, of a marked article body
// (see stat.heavy) that protects the elements around it from cleaning.
const minHeavy = 400

// stats holds a stat per element, computed in one pass. It lives for one
// Extract call.
type stats struct {
	idx map[*html.Node]int32
	s   []stat
	// classes caches classFlags by class attribute, and names by each
	// name of a class (see classNameFlags): pages repeat them.
	classes, names map[string]uint8
	// neutral are the boilerplate words that say nothing on this page.
	neutral map[string]bool
}

// statsPool keeps the stats of finished Extract calls for the next ones:
// a page has thousands of elements, and their stats, index and class cache
// are the bulk of what Extract would allocate besides the output.
var statsPool = sync.Pool{New: func() any {
	return &stats{idx: make(map[*html.Node]int32, 1024), s: make([]stat, 0, 1024), classes: make(map[string]uint8, 256), names: make(map[string]uint8, 256)}
}}

// maxPooledStats is the most elements whose stats are kept for reuse: a
// huge page's tables would slow the clearing of every later page's.
const maxPooledStats = 1 << 15

// newStats returns empty stats, reusing those of an earlier page when it
// can. Pass them to release when done.
func newStats() *stats {
	return statsPool.Get().(*stats)
}

// release empties st, which must not be used again, and keeps it for
// another page.
func (st *stats) release() {
	if len(st.s) > maxPooledStats {
		return
	}
	clear(st.idx)
	st.s = st.s[:0]
	clear(st.classes)
	clear(st.names)
	st.neutral = nil
	statsPool.Put(st)
}

// get returns n's stat; elements not seen by compute get a zero stat.
func (st *stats) get(n *html.Node) *stat {
	return &st.s[st.index(n)]
}

// index returns the place of n's stat in st.s, adding a zero stat for an
// element not seen yet.
func (st *stats) index(n *html.Node) int32 {
	if i, ok := st.idx[n]; ok {
		return i
	}
	st.s = append(st.s, stat{})
	i := int32(len(st.s) - 1)
	st.idx[n] = i
	return i
}

// compute computes the stats of root's subtree, bottom-up, on stats that
// hold none of its elements yet. It returns root's stat by value.
func (st *stats) compute(root *html.Node) stat {
	s, _ := st.walk(root, false)
	return s
}

// marker reports whether n marks the article body: a <main>,
// itemprop=articleBody or role=main element, or an article-body class.
func (st *stats) marker(n *html.Node) bool {
	s := st.get(n)
	st.weigh(s, n)
	return s.marker
}

// markerAt is marker for n whose stat is at i in st.s (-1: not known).
func (st *stats) markerAt(i int32, n *html.Node) bool {
	if i < 0 {
		return st.marker(n)
	}
	s := &st.s[i]
	st.weigh(s, n)
	return s.marker
}

// weight returns the classWeight of n, computed once.
func (st *stats) weight(n *html.Node) int {
	s := st.get(n)
	st.weigh(s, n)
	return int(s.weight)
}

// weigh computes s's class weight, that of element n, unless it is known.
func (st *stats) weigh(s *stat, n *html.Node) {
	if !s.weighed {
		var f uint8
		for _, a := range n.Attr {
			switch a.Key {
			case "class":
				cf, ok := st.classes[a.Val]
				if !ok {
					cf = st.classNameFlags(a.Val)
					st.classes[a.Val] = cf
				}
				f |= cf
			case "id":
				if idf := classFlags(strings.ToLower(a.Val), st.neutral); idf != 0 && !isHeadingAnchor(a.Val, n) {
					f |= idf
				}
			}
		}
		s.weight = int8(weightOf(f))
		s.flags = f
		s.weighed = true
		s.marker = s.weight == 2 || isMainMarker(n)
	}
}

// minAnchorWords is the fewest words of an id made from the element's
// heading that isHeadingAnchor recognizes: fewer could be a role's name
// that the heading repeats ("popular-posts" over "Popular posts").
const minAnchorWords = 4

// isHeadingAnchor reports whether id is a link anchor made from the text
// that begins element n ("2-heading-how-popular-is-running" over "How
// popular is running?"), as tables of contents make them: its words are
// the heading's, picked by its author, and say nothing of the element's
// role. Most of its words, and at least minAnchorWords, begin n's text.
func isHeadingAnchor(id string, n *html.Node) bool {
	words := strings.FieldsFunc(strings.ToLower(id), func(r rune) bool { return r < 'a' || r > 'z' })
	if len(words) < minAnchorWords {
		return false
	}
	text := strings.ToLower(leadText(n, 300))
	found := 0
	for _, w := range words {
		if containsWord(text, w) {
			found++
		}
	}
	return found >= minAnchorWords && found*3 >= len(words)*2
}

// leadText returns about the first max bytes of n's text.
func leadText(n *html.Node, max int) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && b.Len() < max; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				b.WriteString(c.Data)
				b.WriteByte(' ')
			case html.ElementNode:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// containsWord reports whether w occurs in text as a whole word.
func containsWord(text, w string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], w)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(w)
		if (j == 0 || !isWordByte(text[j-1])) && (end == len(text) || !isWordByte(text[end])) {
			return true
		}
		i = j + 1
	}
}

func isWordByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// classNameFlags is classFlags of the class attribute class lower-cased,
// read name by name: pages that give every element its own combination of
// utility classes repeat the names, not the classes. No part or word
// classFlags looks for holds white space, so the class says what its
// names say, the first strong marker winning.
func (st *stats) classNameFlags(class string) uint8 {
	var f uint8
	for rest := class; rest != ""; {
		var name string
		if i := strings.IndexAny(rest, " \n\t\r\f"); i >= 0 {
			name, rest = rest[:i], rest[i+1:]
		} else {
			name, rest = rest, ""
		}
		if name == "" {
			continue
		}
		nf, ok := st.names[name]
		if !ok {
			// No character lower-cases to white space: the names of
			// the class lower-cased are those of the class.
			nf = classFlags(strings.ToLower(name), st.neutral)
			st.names[name] = nf
		}
		if nf == flagStrong {
			return flagStrong
		}
		f |= nf
	}
	return f
}

// neutralize finds the boilerplate words of class names that mark most of
// the paragraph text under root, whose paragraph text is ptext: on such a
// page (a page builder that calls every block a "widget") the word names
// the page's building blocks, not its boilerplate, and it no longer counts. The stats' class weights
// are then computed again.
func (st *stats) neutralize(root *html.Node, ptext int) {
	if ptext < 500 {
		return
	}
	cover := make(map[string]int)
	open := make(map[string]int)
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			s := st.get(c)
			if s.ptext == 0 {
				continue
			}
			var words []string
			if s.weighed && s.flags&flagNegWord != 0 {
				for _, a := range c.Attr {
					if a.Key == "class" || a.Key == "id" {
						eachNegWord(strings.ToLower(a.Val), func(w string) {
							if open[w] == 0 {
								cover[w] += s.ptext
							}
							open[w]++
							words = append(words, w)
						})
					}
				}
			}
			walk(c)
			for _, w := range words {
				open[w]--
			}
		}
	}
	walk(root)
	for w, n := range cover {
		if n*2 > ptext {
			if st.neutral == nil {
				st.neutral = make(map[string]bool)
			}
			st.neutral[w] = true
		}
	}
	if st.neutral == nil {
		return
	}
	clear(st.classes)
	clear(st.names)
	for i := range st.s {
		st.s[i].weighed = false
	}
}

// walk computes the stats of n's subtree, and returns n's with its place
// in st.s (-1 when it has none).
func (st *stats) walk(n *html.Node, inLink bool) (stat, int32) {
	var s stat
	if n.DataAtom != 0 && invisibleTag(n.DataAtom) {
		return s, -1
	}
	link := inLink || n.DataAtom == atom.A
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			l, cm := countText(c.Data)
			s.text += l
			s.inline += l
			s.commas += cm
			s.icomma += cm
			if link {
				s.link += l
			}
		case html.ElementNode:
			cs, ci := st.walk(c, link)
			s.text += cs.text
			s.link += cs.link
			s.commas += cs.commas
			s.ps += cs.ps
			s.ptext += cs.ptext
			if runningText(c, &cs) {
				s.ptext += cs.text - cs.ptext
			}
			s.imgs += cs.imgs
			lh, bt := own(c, &cs)
			s.lheads += cs.lheads + lh
			s.btext += cs.btext + bt
			if !s.heavy {
				// Phrasing elements never mark the body: skip classifying
				// their classes here (cleaning may never reach them).
				// A marked element with a few lines (a card's
				// "rich-text" summary) does not make its ancestors
				// hold the body.
				s.heavy = cs.heavy || (!phrasingTag(c.DataAtom) && st.markerAt(ci, c) && cs.text >= minHeavy)
			}
			if !isBlock(c) {
				s.inline += cs.inline
				s.icomma += cs.icomma
			}
			switch c.DataAtom {
			case atom.P:
				s.ps++
			case atom.Img:
				s.imgs++
			}
		}
	}
	// The walk meets each element once, and before anything else asks
	// for its stat: it need not look for one.
	i := int32(len(st.s))
	st.s = append(st.s, s)
	st.idx[n] = i
	return s, i
}

// byteClass sorts single bytes for countText: 0 counts, 1 is space, 2 is
// a comma, 3 may start a multi-byte comma or space.
var byteClass = func() (t [256]uint8) {
	for _, b := range []byte{' ', '\n', '\t', '\r', '\f'} {
		t[b] = 1
	}
	t[','] = 2
	t[0xEF], t[0xE3], t[0xD8], t[0xC2] = 3, 3, 3, 3
	return t
}()

// countText counts the non-space bytes and the commas in s.
func countText(s string) (n, commas int) {
	for i := 0; i < len(s); i++ {
		switch byteClass[s[i]] {
		case 0:
			n++
		case 1:
		case 2:
			n++
			commas++
		default:
			switch {
			case s[i] == 0xEF && i+2 < len(s) && s[i+1] == 0xBC && s[i+2] == 0x8C: // ，
				n += 3
				commas++
				i += 2
			case s[i] == 0xE3 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2] == 0x81: // 、
				n += 3
				commas++
				i += 2
			case s[i] == 0xD8 && i+1 < len(s) && s[i+1] == 0x8C: // ،
				n += 2
				commas++
				i++
			case s[i] == 0xC2 && i+1 < len(s) && s[i+1] == 0xA0: // no-break space
				i++
			default:
				n++
			}
		}
	}
	return n, commas
}

// linkDensity is the share of s's text inside links.
func (s *stat) linkDensity() float64 {
	if s.text == 0 {
		return 0
	}
	return float64(s.link) / float64(s.text)
}

// isMainMarker reports whether n declares itself the page's main content.
func isMainMarker(n *html.Node) bool {
	if n.DataAtom == atom.Main {
		return true
	}
	for _, a := range n.Attr {
		switch a.Key {
		case "itemprop":
			if a.Val == "articleBody" || a.Val == "articlebody" {
				return true
			}
		case "role":
			if a.Val == "main" {
				return true
			}
		}
	}
	return false
}

// own is what element c, whose subtree's stat is cs, adds to its
// ancestors' lheads and btext by itself.
func own(c *html.Node, cs *stat) (lheads, btext int) {
	switch c.DataAtom {
	case atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		if cs.link*2 > cs.text {
			return 1, 0
		}
	case atom.Form:
		return 1, 0
	case atom.Li, atom.Td, atom.Dd, atom.Blockquote, atom.Pre:
	default:
		return 0, 0
	}
	if cs.link*2 < cs.text {
		return 0, max(0, cs.text-cs.ptext-cs.btext)
	}
	return 0, 0
}

// runningText reports whether element c, whose subtree's stat is cs,
// counts as a paragraph of running text: a <p>, or a <div> that holds only
// text and phrasing elements, enough of it for a sentence or two, as pages
// that write paragraphs without <p> do; in both cases not mostly links.
func runningText(c *html.Node, cs *stat) bool {
	switch c.DataAtom {
	case atom.P:
	case atom.Div:
		if cs.inline != cs.text || cs.text < divPara {
			return false
		}
	default:
		return false
	}
	return cs.link*2 < cs.text
}

// divPara is the least text, in non-space bytes, of a <div> that runningText
// counts as a paragraph.
const divPara = 150

// subtract takes element c's subtree out of its ancestors' stats, before c
// is removed: cheaper than computing the stats again. All counts stay exact
// except ptext when c sits inside a <p>, which only guards cleaning.
func (st *stats) subtract(c *html.Node) {
	cs := *st.get(c)
	ptext := cs.ptext
	if runningText(c, &cs) {
		ptext = cs.text
	}
	switch c.DataAtom {
	case atom.P:
		cs.ps++
	case atom.Img:
		cs.imgs++
	}
	lh, bt := own(c, &cs)
	cs.lheads += lh
	cs.btext += bt
	inline := !isBlock(c)
	for a := c.Parent; a != nil && a.Type == html.ElementNode; a = a.Parent {
		as := st.get(a)
		as.text -= cs.text
		as.link -= cs.link
		as.commas -= cs.commas
		as.ptext -= ptext
		as.ps -= cs.ps
		as.imgs -= cs.imgs
		as.lheads -= cs.lheads
		as.btext -= cs.btext
		if inline {
			as.inline -= cs.inline
			as.icomma -= cs.icomma
			inline = !isBlock(a)
		}
	}
}
