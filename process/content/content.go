// Package content finds the main text of a news page: the article, all of
// it, and nothing else.
//
// Extract works on the parsed DOM in a few linear passes: it removes what is
// never article text (scripts, navigation, hidden elements, elements whose
// class or id names boilerplate), scores the remaining elements by the text
// their paragraphs hold (commas, length, link density), takes the best
// container with its related siblings, prunes link lists and other debris
// inside it, and renders the result as plain paragraphs and as sanitized
// HTML. A headline or lead repeated in the body is dropped, and a
// JSON-LD articleBody stands in when the page's markup yields too little.
package content

import (
	"context"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Options are the hints Extract uses beyond the document itself.
type Options struct {
	// BaseURL makes links and image sources in the HTML absolute.
	BaseURL *url.URL
	// Title and Description, when known from the metadata, let Extract drop
	// a headline repeated as a subtitle and a lead repeated before the body.
	Title       string
	Description string
}

// Result is the extracted body.
type Result struct {
	// Paragraphs are the body's blocks in order, each one line of plain
	// text; the first line of a list item begins with "- ", and a data
	// table's row is one line, "| a | b |".
	Paragraphs []string
	// HTML is the body as sanitized HTML.
	HTML string
	// tight marks the paragraphs that go on the line after the one before
	// them, with no blank line: the items of a list after its first, a list
	// item's later paragraphs, and a table's rows after its first.
	tight []bool
}

// Text is the body as plain text: paragraphs apart by a blank line, a
// list's items and a table's rows one to a line, as plain-text mail and
// Markdown write them.
func (r Result) Text() string {
	var b strings.Builder
	for i, p := range r.Paragraphs {
		switch {
		case i == 0:
		case i < len(r.tight) && r.tight[i]:
			b.WriteByte('\n')
		default:
			b.WriteString("\n\n")
		}
		b.WriteString(p)
	}
	return b.String()
}

// setParagraphs sets r's paragraphs to ps, marking list items and putting
// each table row on a line.
func (r *Result) setParagraphs(ps []para) {
	ps, tables := tableRows(ps)
	r.Paragraphs = make([]string, 0, len(ps))
	r.tight = make([]bool, 0, len(ps))
	var item *html.Node // the list item of the paragraph before
	for i, p := range ps {
		li := listItem(p.node)
		text := p.text
		if li != nil && li != item {
			text = "- " + unbullet(text)
		}
		// A list goes on the line after its item before, or after the
		// line that introduces it ("…you will need:"); a table's rows go
		// one to a line.
		r.tight = append(r.tight, li != nil && (item != nil || i > 0 && strings.HasSuffix(ps[i-1].text, ":")) ||
			tables[i] != nil && i > 0 && tables[i-1] == tables[i])
		r.Paragraphs = append(r.Paragraphs, text)
		item = li
	}
}

// maxCell is the longest text of a table cell that tableRows puts on a
// row's line: longer, the table is a page's layout, not data.
const maxCell = 300

// tableRows joins the cells of each table row into one paragraph, "| a |
// b |", as Markdown writes a table, and returns with every paragraph the
// table of its row (nil for the others). A row with a cell of several
// paragraphs or a long one (a table laid out a page) keeps its cells as
// paragraphs.
func tableRows(ps []para) ([]para, []*html.Node) {
	out := make([]para, 0, len(ps))
	tables := make([]*html.Node, 0, len(ps))
	for i, j := 0, 0; i < len(ps); i = j {
		_, row := cellOf(ps[i].node)
		for j = i + 1; row != nil && j < len(ps); j++ {
			if _, r := cellOf(ps[j].node); r != row {
				break
			}
		}
		if line, ok := rowLine(row, ps[i:j]); ok {
			out = append(out, para{text: line, node: row, tag: atom.Tr})
			tables = append(tables, tableOf(row))
			continue
		}
		for _, p := range ps[i:j] {
			out = append(out, p)
			tables = append(tables, nil)
		}
	}
	return out, tables
}

// rowLine is row's line, its cells' texts between bars (an empty cell
// empty), when paras are the row's paragraphs, each a cell of its own and
// short, and the row has two cells or more.
func rowLine(row *html.Node, paras []para) (string, bool) {
	if row == nil {
		return "", false
	}
	text := make(map[*html.Node]string, len(paras))
	for _, p := range paras {
		cell, _ := cellOf(p.node)
		if _, dup := text[cell]; dup || len(p.text) > maxCell {
			return "", false
		}
		text[cell] = p.text
	}
	var b strings.Builder
	n, used := 0, 0
	for c := row.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.DataAtom == atom.Td || c.DataAtom == atom.Th) {
			b.WriteString("| ")
			if t, ok := text[c]; ok {
				b.WriteString(t)
				b.WriteByte(' ')
				used++
			}
			n++
		}
	}
	if n < 2 || used < len(text) { // a paragraph of a cell no longer in the row: keep it
		return "", false
	}
	b.WriteByte('|')
	return b.String(), true
}

// tableOf is the table of row.
func tableOf(row *html.Node) *html.Node {
	for n := row.Parent; n != nil; n = n.Parent {
		if n.DataAtom == atom.Table {
			return n
		}
	}
	return row.Parent
}

// cellOf is the table cell that n is in and the cell's row, or nils.
func cellOf(n *html.Node) (cell, row *html.Node) {
	for ; n != nil; n = n.Parent {
		switch n.DataAtom {
		case atom.Td, atom.Th:
			if n.Parent != nil && n.Parent.DataAtom == atom.Tr {
				return n, n.Parent
			}
			return nil, nil
		case atom.Table, atom.Li, atom.Blockquote, atom.Body:
			return nil, nil
		}
	}
	return nil, nil
}

// listItem is the <li> that n is in, or nil: a table cell or a quote
// inside an item is not part of the item's line.
func listItem(n *html.Node) *html.Node {
	for ; n != nil; n = n.Parent {
		switch n.DataAtom {
		case atom.Li:
			return n
		case atom.Ul, atom.Ol, atom.Td, atom.Th, atom.Blockquote, atom.Body:
			return nil
		}
	}
	return nil
}

// unbullet is s without the bullet it starts with, if it has one of its
// own: the list item gets "- " instead.
func unbullet(s string) string {
	for _, b := range []string{"- ", "* ", "• ", "· ", "– ", "— ", "▪ ", "► "} {
		if rest, ok := strings.CutPrefix(s, b); ok {
			return rest
		}
	}
	return s
}

// extractor holds the state of one Extract call.
type extractor struct {
	ctx       context.Context
	opts      Options
	st        *stats
	pageText  int        // text bytes of the whole body before cleaning
	pagePText int        // of which in paragraphs
	ldBody    string     // the longest JSON-LD articleBody
	pruned    []cut      // what prune removed, in order
	pruning   *html.Node // the chosen container prune works in
	spare     *html.Node // the element with the most plain text that clean dropped for its class
	spareText int        // its text outside links
	controls  []string   // ids that a control seen so far opens (aria-controls): collapsed panels
}

// cut is an element that prune removed, with where it was.
type cut struct{ parent, node, next *html.Node }

// Extract returns the main content of doc. It may modify doc. It stops
// between its passes once ctx is done and returns ctx's error.
func Extract(ctx context.Context, doc *goquery.Document, opts Options) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if doc == nil || len(doc.Nodes) == 0 {
		return Result{}, nil
	}
	x := &extractor{ctx: ctx, opts: opts, st: newStats()}
	defer x.st.release()
	return x.run(doc.Nodes[0])
}

func (x *extractor) run(root *html.Node) (Result, error) {
	body := findBody(root)
	if body == nil {
		return Result{}, nil
	}
	// JSON-LD usually sits in <head>: read it before the body is cleaned.
	if head := findChild(findChild(root, atom.Html), atom.Head); head != nil {
		for c := head.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.DataAtom == atom.Script && strings.Contains(strings.ToLower(attr(c, "type")), "ld+json") {
				x.readJSONLD(c)
			}
		}
	}
	revealStreamed(body)
	page := x.st.compute(body)
	x.pageText, x.pagePText = page.text, page.ptext
	x.st.neutralize(body, page.ptext)
	if err := x.ctx.Err(); err != nil {
		return Result{}, err
	}
	x.clean(body) // keeps the stats up to date
	if err := x.ctx.Err(); err != nil {
		return Result{}, err
	}

	nodes := x.selectContent(body)
	nodes = append(x.lead(body, nodes), nodes...)
	for _, n := range nodes {
		x.pruning = n
		x.prune(n)
	}
	if err := x.ctx.Err(); err != nil {
		return Result{}, err
	}
	paras := x.dedupe(paragraphs(nodes, true))
	if n := x.narrowToLD(nodes, paras); n != nil {
		nodes = []*html.Node{n}
		paras = x.dedupe(paragraphs(nodes, true))
	}
	paras = trimTail(paras)
	if len(paras) == 0 || textLen(paras) < 250 || x.missesLD(paras) {
		if err := x.ctx.Err(); err != nil {
			return Result{}, err
		}
		if alt := x.fallback(body, paras); alt != nil {
			return *alt, nil
		}
	}
	if len(paras) == 0 {
		return x.lastResort(nodes), nil
	}
	var r Result
	r.setParagraphs(paras)
	// Dedupe may have removed a whole top-level node.
	kept := nodes[:0]
	for _, n := range nodes {
		if n.Parent != nil {
			kept = append(kept, n)
		}
	}
	r.HTML = sanitize(kept, x.opts.BaseURL)
	return r, nil
}

func textLen(ps []para) int {
	n := 0
	for _, p := range ps {
		n += len(p.text)
	}
	return n
}

// findBody returns the <body> element under root.
func findBody(root *html.Node) *html.Node {
	if root.Type == html.ElementNode && root.DataAtom == atom.Body {
		return root
	}
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.DataAtom == atom.Html || c.DataAtom == atom.Body) {
			if b := findBody(c); b != nil {
				return b
			}
		}
	}
	return nil
}

// findChild returns n's first child element with tag a.
func findChild(n *html.Node, a atom.Atom) *html.Node {
	if n == nil {
		return nil
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == a {
			return c
		}
	}
	return nil
}
