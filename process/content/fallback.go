package content

import (
	"html"
	"strings"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// fallback is tried when the chosen container yields little text: the
// page's JSON-LD articleBody, or the paragraphs of the element that holds
// the most running text. It returns nil when neither beats what was found.
func (x *extractor) fallback(body *nethtml.Node, found []para) *Result {
	have := textLen(found)
	if ld := x.ldParagraphs(); textLen(ld) > have && textLen(ld) >= 100 && (have < 250 || x.missesLD(found)) {
		r := &Result{}
		var b strings.Builder
		for _, p := range ld {
			r.Paragraphs = append(r.Paragraphs, p.text)
			b.WriteString("<p>")
			b.WriteString(html.EscapeString(p.text))
			b.WriteString("</p>")
		}
		r.HTML = b.String()
		return r
	}
	// Running text whose container lost the vote: the paragraphs of the
	// one parent that holds the most paragraph text, if it holds a real body.
	byParent := make(map[*nethtml.Node][]*nethtml.Node)
	textOf := make(map[*nethtml.Node]int)
	var best *nethtml.Node
	var walk func(*nethtml.Node)
	walk = func(n *nethtml.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != nethtml.ElementNode {
				continue
			}
			switch c.DataAtom {
			case atom.P, atom.Pre, atom.Blockquote, atom.H2, atom.H3, atom.H4:
				s := x.st.get(c)
				if s.text >= minPara && s.linkDensity() < 0.5 {
					byParent[n] = append(byParent[n], c)
					textOf[n] += s.text
					if best == nil || textOf[n] > textOf[best] {
						best = n
					}
				}
				continue
			}
			walk(c)
		}
	}
	walk(body)
	if best == nil || len(byParent[best]) < 3 || textOf[best] < 500 {
		return nil
	}
	nodes := byParent[best]
	ps := x.dedupe(paragraphs(nodes, true))
	if textLen(ps) <= have*3/2 {
		return nil
	}
	r := &Result{HTML: sanitize(nodes, x.opts.BaseURL)}
	r.setParagraphs(ps)
	return r
}

// ldParagraphs splits the JSON-LD articleBody into paragraphs. Some sites
// put HTML in it; tags are then stripped.
func (x *extractor) ldParagraphs() []para {
	src := x.ldBody
	if strings.TrimSpace(src) == "" {
		return nil
	}
	if strings.Contains(src, "</") || strings.Contains(src, "<p") || strings.Contains(src, "<br") {
		doc, err := nethtml.Parse(strings.NewReader(src))
		if err == nil {
			return paragraphs([]*nethtml.Node{doc}, true)
		}
	}
	var out []para
	for _, line := range strings.Split(src, "\n") {
		if t := normalize(html.UnescapeString(line)); t != "" {
			out = append(out, para{text: t})
		}
	}
	return out
}

// missesLD reports whether the JSON-LD articleBody is long and most of its
// words are missing from the paragraphs found: the wrong container won.
func (x *extractor) missesLD(found []para) bool {
	if len(x.ldBody) < 500 {
		return false
	}
	have := make(map[string]bool, 256)
	for _, p := range found {
		for _, w := range strings.Fields(foldKey(p.text)) {
			have[w] = true
		}
	}
	words := strings.Fields(foldKey(html.UnescapeString(x.ldBody)))
	missing := 0
	for _, w := range words {
		if !have[w] {
			missing++
		}
	}
	return missing*2 > len(words)
}

// narrowToLD looks inside the chosen nodes for the one element that holds
// the JSON-LD articleBody when the chosen text is far longer than it (a
// page that runs several stories one after another). It returns nil when
// there is no such hint or no such element.
func (x *extractor) narrowToLD(nodes []*nethtml.Node, found []para) *nethtml.Node {
	if len(x.ldBody) < 500 {
		return nil
	}
	ldText := html.UnescapeString(x.ldBody)
	ldLen, _ := countText(ldText)
	if have := textLen(found); have < ldLen*5/2 {
		return nil
	}
	words := make(map[string]bool, 256)
	for _, w := range strings.Fields(foldKey(ldText)) {
		words[w] = true
	}
	var best *nethtml.Node
	bestLen := 0
	var visit func(n *nethtml.Node)
	visit = func(n *nethtml.Node) {
		s := x.st.get(n)
		if s.text < ldLen*3/5 {
			return // too small, and so is all it holds
		}
		if s.text <= ldLen*9/5 && (best == nil || s.text < bestLen) && covers(paragraphs([]*nethtml.Node{n}, true), words) {
			best, bestLen = n, s.text
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == nethtml.ElementNode {
				visit(c)
			}
		}
	}
	for _, n := range nodes {
		visit(n)
	}
	if best != nil && x.oneOfSeries(best, nodes) {
		return nil // the articleBody sums up one item of a listicle, not the page
	}
	return best
}

// oneOfSeries reports whether n, or an ancestor of it inside the chosen
// nodes, is one item of a listicle: it has a sibling of the same tag and
// class that holds text of its own, and an introduction of another shape
// comes before the series. (Stories in an endless stream have no such
// introduction; each stands alone.)
func (x *extractor) oneOfSeries(n *nethtml.Node, nodes []*nethtml.Node) bool {
	for ; n != nil && n.Parent != nil; n = n.Parent {
		for _, top := range nodes {
			if n == top {
				return false
			}
		}
		class := attr(n, "class")
		if class == "" {
			continue
		}
		same := func(c *nethtml.Node) bool {
			return c.Type == nethtml.ElementNode && c.DataAtom == n.DataAtom && attr(c, "class") == class
		}
		series, intro := false, false
		for c := n.Parent.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case same(c):
				series = series || (c != n && x.st.get(c).text >= x.st.get(n).text/4)
			case c.Type == nethtml.ElementNode && !series && c != n && !isAncestor(c, n):
				intro = intro || x.st.get(c).ptext >= 100
			}
		}
		if series && intro {
			return true
		}
	}
	return false
}

// covers reports whether the paragraphs hold at least 80% of words.
func covers(ps []para, words map[string]bool) bool {
	seen := make(map[string]bool, len(words))
	for _, p := range ps {
		for _, w := range strings.Fields(foldKey(p.text)) {
			if words[w] {
				seen[w] = true
			}
		}
	}
	return len(seen)*5 >= len(words)*4
}

// lastResort is the text of a page whose chosen container came out empty:
// the container as it was before pruning, less its link lists, when that
// is a real text; else the longer of it, the JSON-LD articleBody and the
// element with the most plain text that cleaning dropped for its class
// name. An empty text is only returned for a page that has none of these.
func (x *extractor) lastResort(nodes []*nethtml.Node) Result {
	for i := len(x.pruned) - 1; i >= 0; i-- {
		c := x.pruned[i]
		c.parent.InsertBefore(c.node, c.next)
	}
	x.pruned = nil
	var ps []para
	for _, p := range paragraphs(nodes, true) {
		if x.linkDensity(p) < 0.5 {
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 && textLen(ps) >= 250 {
		return x.result(ps, nodes)
	}
	if ld := x.ldParagraphs(); len(ld) > 0 && textLen(ld) > textLen(ps) {
		return x.result(ld, nil)
	}
	// A few words (a headline, a label) against the running text of an
	// element that cleaning dropped for its class: the class was wrong.
	if x.spare != nil {
		if sp := x.dedupe(paragraphs([]*nethtml.Node{x.spare}, true)); len(sp) > 0 && textLen(sp) > 2*textLen(ps) {
			return x.result(sp, []*nethtml.Node{x.spare})
		}
	}
	if len(ps) > 0 {
		return x.result(ps, nodes)
	}
	return Result{}
}

// result is the Result of paragraphs ps: the HTML is that of nodes, or, with
// none, the paragraphs escaped.
func (x *extractor) result(ps []para, nodes []*nethtml.Node) Result {
	var r Result
	r.setParagraphs(ps)
	if nodes != nil {
		r.HTML = sanitize(nodes, x.opts.BaseURL)
		return r
	}
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("<p>")
		b.WriteString(html.EscapeString(p.text))
		b.WriteString("</p>")
	}
	r.HTML = b.String()
	return r
}
