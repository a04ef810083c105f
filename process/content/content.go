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
	// Paragraphs are the body's blocks in order, each one line of plain text.
	Paragraphs []string
	// HTML is the body as sanitized HTML.
	HTML string
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
	r := Result{Paragraphs: make([]string, 0, len(paras))}
	for _, p := range paras {
		r.Paragraphs = append(r.Paragraphs, p.text)
	}
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
