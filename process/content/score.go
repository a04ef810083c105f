package content

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// minPara is the shortest text, in non-space bytes, that counts as a
// paragraph when scoring.
const minPara = 25

// selectContent scores the cleaned body and returns the best container of
// the article text, with those of its siblings that belong to it.
func (x *extractor) selectContent(body *html.Node) []*html.Node {
	var cands []*html.Node
	x.scoreParagraphs(body, &cands)
	var top *html.Node
	best := 0.0
	for _, c := range cands {
		s := x.st.get(c)
		s.score *= 1 - s.linkDensity()
		if s.score > best || top == nil {
			top, best = c, s.score
		}
	}
	if top == nil {
		return []*html.Node{body}
	}
	top = x.promote(top, cands)
	top = x.widen(top)
	return x.siblings(top)
}

// scoreParagraphs gives every paragraph's score to its ancestors: in full to
// its parent, half to its grandparent, less further up.
func (x *extractor) scoreParagraphs(n *html.Node, cands *[]*html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		x.scoreParagraphs(c, cands)
		s := x.st.get(c)
		var length, commas int
		switch c.DataAtom {
		case atom.P, atom.Pre, atom.Td, atom.Blockquote:
			length, commas = s.text, s.commas
		default:
			if !isBlock(c) && c.DataAtom != 0 {
				continue // inline text counts for the block holding it
			}
			length, commas = s.inline, s.icomma
		}
		if length < minPara {
			continue
		}
		if s.linkDensity() > 0.5 {
			continue
		}
		score := 1 + float64(commas) + min(float64(length)/100, 3)
		level := 0
		for a := c.Parent; a != nil && level < 5; a = a.Parent {
			if a.Type != html.ElementNode {
				break
			}
			as := x.st.get(a)
			if !as.scored {
				as.scored = true
				as.score = x.initialScore(a)
				*cands = append(*cands, a)
			}
			switch level {
			case 0:
				as.score += score
			case 1:
				as.score += score / 2
			default:
				as.score += score / float64(level*3)
			}
			level++
		}
	}
}

// initialScore is a container's score before its paragraphs count: by tag
// and by what its class and id say.
func (x *extractor) initialScore(n *html.Node) float64 {
	var s float64
	switch n.DataAtom {
	case atom.Div, atom.Article, atom.Main, atom.Section:
		s = 5
	case atom.Pre, atom.Td, atom.Blockquote:
		s = 3
	case atom.Address, atom.Ol, atom.Ul, atom.Dl, atom.Dd, atom.Dt, atom.Li, atom.Form:
		s = -3
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Th:
		s = -5
	case atom.Body, atom.Html:
		s = -10
	}
	w := x.st.weight(n)
	if w < 0 && x.longSummary(n) {
		w = 0
	}
	if w == 2 && x.st.get(n).text < 100 {
		// A strong article class on a line or two of text is a utility
		// class that styles text (text-content-size on a page header):
		// the element does not hold the article.
		w = 0
	}
	switch w {
	case 2:
		s += 40
	case 1:
		s += 25
	case -1:
		s -= 25
	}
	if isMainMarker(n) {
		s += 25
	}
	return s
}

// promote moves the top candidate up to an ancestor when the ancestor
// scores about as well: the article body is often split over several
// containers that share a parent.
func (x *extractor) promote(top *html.Node, cands []*html.Node) *html.Node {
	topScore := x.st.get(top).score
	// Ancestors shared by several strong candidates.
	var alts []*html.Node
	for _, c := range cands {
		if c != top && x.st.get(c).score >= topScore*0.75 {
			alts = append(alts, c)
		}
	}
	if len(alts) >= 3 {
		for p := top.Parent; p != nil && p.DataAtom != atom.Body; p = p.Parent {
			n := 0
			for _, a := range alts {
				if n < 3 && isAncestor(p, a) {
					n++
				}
			}
			if n >= 3 {
				top = p
				break
			}
		}
	}
	// Climb to an ancestor that scores better than the top: it holds more
	// of the text. (Better than a wrapper between them is not enough: a
	// wrapper scores only a share of the paragraphs, and the page's <main>
	// around the article and the boxes after it would win over it.)
	topScore = x.st.get(top).score
	threshold := topScore / 3
	for p := top.Parent; p != nil && p.DataAtom != atom.Body; p = p.Parent {
		ps := x.st.get(p)
		if !ps.scored {
			continue
		}
		if ps.score < threshold {
			break
		}
		if ps.score > topScore {
			top = p
			break
		}
	}
	// The element the page marks as the article body holds all of it.
	level := 0
	for p := top.Parent; p != nil && p.DataAtom != atom.Body && level < 4; p, level = p.Parent, level+1 {
		if v := attr(p, "itemprop"); (v == "articleBody" || v == "articlebody") && x.st.get(p).linkDensity() < 0.3 {
			top = p
			break
		}
	}
	// An only child says nothing more than its parent, unless it is the
	// page's article: its bounds are kept for widen.
	for p := top.Parent; p != nil && p.DataAtom != atom.Body && onlyElementChild(p) == top && !soleArticle(top); p = top.Parent {
		top = p
	}
	return top
}

// widen moves the chosen container up to the ancestor that holds the most
// running text for the least of anything else: an article split into
// sections, each in containers of its own, is read whole, while an
// ancestor that adds link lists and page furniture is not taken. It does
// not go past the one <article> element that holds the container.
func (x *extractor) widen(top *html.Node) *html.Node {
	best, bestV := top, x.prose(top)
	if soleArticle(top) {
		return top
	}
	for p := top.Parent; p != nil && p.Type == html.ElementNode && p.DataAtom != atom.Body; p = p.Parent {
		if v := x.prose(p); v > bestV {
			best, bestV = p, v
		}
		if soleArticle(p) {
			break // the page says the article ends here
		}
	}
	return best
}

// soleArticle reports whether n is an <article> element with no <article>
// beside it: the page's own bounds of its story. (Articles side by side are
// parts of one page, such as tabs, or several stories.)
func soleArticle(n *html.Node) bool {
	if n.DataAtom != atom.Article || n.Parent == nil {
		return false
	}
	for c := n.Parent.FirstChild; c != nil; c = c.NextSibling {
		if c != n && c.Type == html.ElementNode && c.DataAtom == atom.Article {
			return false
		}
	}
	return true
}

// prose is the value of n as the article's container: its paragraph text
// less a share of its other text and of its links. The text of list items,
// headings, cells and quotes that are not link lists is neutral: articles
// have them, and so do the pages around them.
func (x *extractor) prose(n *html.Node) float64 {
	s := x.st.get(n)
	return float64(s.ptext) - widenOther*float64(s.text-s.ptext-s.btext) - widenLink*float64(s.link) - widenHead*float64(s.lheads)
}

// What widen charges for text outside paragraphs, for link text, and for
// each form or linked heading (a teaser of another story), in bytes of
// paragraph text.
const (
	widenOther = 0.5
	widenLink  = 1.0
	widenHead  = 400
)

func isAncestor(a, n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p == a {
			return true
		}
	}
	return false
}

func onlyElementChild(p *html.Node) *html.Node {
	var only *html.Node
	for c := p.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.ElementNode:
			if only != nil {
				return nil
			}
			only = c
		case html.TextNode:
			if hasVisible(c.Data) {
				return nil
			}
		}
	}
	return only
}

func hasVisible(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			return true
		}
	}
	return false
}

// siblings returns top together with the siblings that continue it: other
// well-scored containers, and paragraphs of running text.
func (x *extractor) siblings(top *html.Node) []*html.Node {
	parent := top.Parent
	if parent == nil || top.DataAtom == atom.Body {
		return []*html.Node{top}
	}
	ts := x.st.get(top)
	threshold := max(10, ts.score*0.2)
	topClass := attr(top, "class")
	var out []*html.Node
	for c := parent.FirstChild; c != nil; c = c.NextSibling {
		if c == top {
			out = append(out, c)
			continue
		}
		if c.Type != html.ElementNode {
			continue
		}
		s := x.st.get(c)
		bonus := 0.0
		if topClass != "" && attr(c, "class") == topClass {
			bonus = ts.score * 0.2
		}
		if s.scored && s.score+bonus >= threshold && s.linkDensity() < 0.25 {
			out = append(out, c)
			continue
		}
		if c.DataAtom == atom.P || (!s.scored && s.inline == s.text && s.text > 0) {
			ld := s.linkDensity()
			switch {
			case s.text > 80 && ld < 0.25:
				out = append(out, c)
			case s.text > 0 && s.text <= 80 && ld == 0 && endsSentence(c):
				out = append(out, c)
			}
		}
	}
	return out
}

// endsSentence reports whether n's text has a sentence end.
func endsSentence(n *html.Node) bool {
	found := false
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && !found; c = c.NextSibling {
			if c.Type == html.TextNode {
				for i := 0; i+1 < len(c.Data); i++ {
					if c.Data[i] == '.' && (c.Data[i+1] == ' ' || c.Data[i+1] == '\n') {
						found = true
						return
					}
				}
				if l := len(c.Data); l > 0 && c.Data[l-1] == '.' && c.NextSibling == nil {
					found = true
				}
			} else if c.Type == html.ElementNode {
				walk(c)
			}
		}
	}
	walk(n)
	return found
}

// prune removes from the chosen content what is not article text: link
// lists, short link-heavy blocks, form debris, empty containers.
func (x *extractor) prune(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			if x.fishy(c) {
				x.pruned = append(x.pruned, cut{parent: n, node: c, next: next})
				n.RemoveChild(c)
			} else {
				x.prune(c)
			}
		}
		c = next
	}
}

// fishy decides whether prune removes element n.
func (x *extractor) fishy(n *html.Node) bool {
	switch n.DataAtom {
	case atom.H1:
		return true
	case atom.Div, atom.Section, atom.Ul, atom.Ol, atom.Table, atom.Form, atom.Header, atom.Dl, atom.Center, atom.Article:
	default:
		if n.DataAtom != 0 {
			return false
		}
	}
	s := x.st.get(n)
	if s.commas >= 10 {
		return false
	}
	if isMainMarker(n) {
		return false
	}
	weight := x.st.weight(n)
	ld := s.linkDensity()
	switch {
	case s.text == 0 && s.imgs == 0:
		return true
	case ld > 0.33 && x.announced(n):
		return false // a list the text introduces ("Patches sent for review:")
	case weight <= 0 && ld > 0.5 && s.ptext >= ownProse && s.lheads == 0:
		return false // a section of the text with its links: look inside
	case weight <= 0 && ld > 0.5:
		return true
	case weight <= 0 && ld > 0.33 && s.text < 300 && s.text-s.link < 40:
		return true
	case weight > 0 && ld > 0.6:
		return true
	case weight <= 0 && s.lheads >= 2 && ld > 0.2 && s.ptext < 1000:
		return true // a grid of teasers: linked headings over short summaries
	}
	return false
}

// ownProse is the least paragraph text, outside links, in non-space bytes,
// that makes a link-heavy container a section of the article to look into
// rather than a link list to drop whole.
const ownProse = 150

// announced reports whether the element before n is a sentence of running
// text that ends with a colon: the article introduces what follows ("Many
// patches were sent for review:"), and a list of links there is part of it.
// A label such as "Related:" or "Read more:" introduces nothing.
func (x *extractor) announced(n *html.Node) bool {
	// The sentence before n, or before the wrapper that n opens.
	var prev *html.Node
	for m := n; prev == nil; m = m.Parent {
		if m == nil || m == x.pruning {
			return false
		}
		prev = m.PrevSibling
		for prev != nil && (prev.Type != html.ElementNode || prev.DataAtom == atom.Br) {
			if prev.Type == html.TextNode && hasVisible(prev.Data) {
				return false
			}
			prev = prev.PrevSibling
		}
	}
	s := x.st.get(prev)
	if s.text == 0 || s.linkDensity() >= 0.5 {
		return false
	}
	ps := paragraphs([]*html.Node{prev}, true)
	if len(ps) == 0 {
		return false
	}
	last := strings.TrimSpace(ps[len(ps)-1].text)
	if !strings.HasSuffix(last, ":") {
		return false
	}
	k := foldKey(last)
	if strings.Count(k, " ") < 1 || isUpper(last) {
		return false // a label: "Related:", "YOU MIGHT ALSO LIKE:"
	}
	if !x.proseAfter(n) {
		return false // links after the article: "You may also like:"
	}
	for _, pre := range pointerPrefixes {
		if strings.HasPrefix(k, pre) {
			return false
		}
	}
	return true
}

// proseAfter reports whether running text follows n inside the container
// being pruned: n sits inside the article rather than after it.
func (x *extractor) proseAfter(n *html.Node) bool {
	for a := n; a != nil && a != x.pruning; a = a.Parent {
		for c := a.NextSibling; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if s := x.st.get(c); s.ptext >= minPara || runningText(c, s) && s.text >= minPara {
				return true
			}
		}
	}
	return false
}

// isTitleCase reports whether every word of s longer than three letters
// starts with a capital, as labels and headlines are written and sentences
// are not.
func isTitleCase(s string) bool {
	long := 0
	for _, w := range strings.Fields(s) {
		r, _ := utf8.DecodeRuneInString(w)
		if utf8.RuneCountInString(w) <= 3 {
			continue
		}
		long++
		if !unicode.IsUpper(r) {
			return false
		}
	}
	return long > 0
}

// lead returns the paragraphs of running text between the page's visible
// headline and the chosen content, when the headline is outside it: the
// standfirst that a hero section shows under the headline, above the
// article's own container. It returns nil when there is no such headline
// or no such text.
func (x *extractor) lead(body *html.Node, nodes []*html.Node) []*html.Node {
	if len(nodes) == 0 {
		return nil
	}
	first := nodes[0]
	var out []*html.Node
	seenH1, done := false, false
	total := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil && !done; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if c == first {
				done = true
				return
			}
			switch {
			case c.DataAtom == atom.H1:
				seenH1 = true
				out, total = out[:0], 0
				continue
			case seenH1 && c.DataAtom == atom.P:
				s := x.st.get(c)
				if s.text >= leadMin && s.linkDensity() < 0.2 && total+s.text <= leadMax && endsWithStop(strings.TrimSpace(textOf(c))) {
					out = append(out, c)
					total += s.text
				}
				continue
			}
			walk(c)
		}
	}
	walk(body)
	if !done || !seenH1 {
		return nil
	}
	return out
}

// The shortest paragraph, and the most text in all, in non-space bytes,
// that lead takes as the standfirst.
const (
	leadMin = 60
	leadMax = 600
)

// textOf is the text of n's subtree as one paragraph.
func textOf(n *html.Node) string {
	ps := paragraphs([]*html.Node{n}, true)
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.text)
	}
	return b.String()
}
