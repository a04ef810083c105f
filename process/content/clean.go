package content

import (
	"encoding/json"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// clean removes from n's subtree what is never article text: scripts and
// other non-text elements, comments, hidden elements, navigation and
// elements whose class or id names boilerplate. An element that holds most
// of the page's text, or the element the page marks as its main content, is
// kept whatever its class says.
func (x *extractor) clean(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch c.Type {
		case html.ElementNode:
			switch {
			case x.drop(c):
				x.st.subtract(c)
				n.RemoveChild(c)
			case c.DataAtom == atom.Pre:
				// Code as it is: a syntax highlighter's classes
				// (hljs-comment, token tag) name parts of the code,
				// not of the page.
			default:
				x.clean(c)
			}
		case html.TextNode:
		default:
			n.RemoveChild(c)
		}
		c = next
	}
}

// drop decides whether clean removes element n.
func (x *extractor) drop(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Html, atom.Body, atom.Main, atom.Article:
		return false
	case atom.Script:
		if strings.Contains(strings.ToLower(attr(n, "type")), "ld+json") {
			x.readJSONLD(n)
		}
		return true
	}
	if n.DataAtom != 0 && junkTags[n.DataAtom] {
		x.noteControls(n) // a button that opens a panel
		switch n.DataAtom {
		case atom.Aside, atom.Footer, atom.Menu, atom.Header:
			return !x.holdsBody(n)
		}
		return true
	}
	if n.DataAtom == 0 {
		// Custom elements named after boilerplate (<ad-slot>, <share-bar>).
		if classWeight(strings.ToLower(n.Data)) < 0 && !x.holdsBody(n) {
			return true
		}
	}
	if x.hidden(n) {
		return true
	}
	if n.DataAtom == atom.A && isButtonLink(n) {
		return true
	}
	if n.DataAtom == atom.Label {
		// The name of a form's field ("First Name*"): a form is
		// never the story, and its labels are the text it leaves.
		return true
	}
	if isPersonCard(n) && !x.holdsBody(n) {
		return true
	}
	if r := attr(n, "role"); r != "" {
		switch r {
		case "navigation", "banner", "contentinfo", "complementary", "dialog", "alertdialog", "search", "menu", "menubar", "toolbar", "tablist":
			return !x.holdsBody(n)
		}
	}
	if isMainMarker(n) {
		return false
	}
	if x.st.weight(n) < 0 && !x.longSummary(n) {
		if x.holdsBody(n) {
			return false
		}
		if s := x.st.get(n); s.linkDensity() < 0.3 && s.text-s.link > x.spareText {
			x.spare, x.spareText = n, s.text-s.link
		}
		return true
	}
	return false
}

// holdsBody reports whether n holds the article body: the page's marked
// main element, or most of the page's text with few links.
func (x *extractor) holdsBody(n *html.Node) bool {
	s := x.st.get(n)
	if s.heavy {
		return true
	}
	if s.text > x.pageText/2 && s.linkDensity() < 0.3 {
		return true
	}
	return x.pagePText >= 500 && s.ptext > x.pagePText/2
}

// hidden reports whether n is hidden from readers. A panel that a control
// earlier on the page opens (an accordion's body, a tab) is hidden only
// until the reader asks for it, and is kept.
func (x *extractor) hidden(n *html.Node) bool {
	hide := false
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			hide = true
		case "aria-hidden":
			if a.Val == "true" && n.DataAtom != atom.Span && n.DataAtom != atom.I {
				hide = true
			}
		case "style":
			if strings.Contains(a.Val, "none") || strings.Contains(a.Val, "hidden") {
				s := strings.ToLower(strings.ReplaceAll(a.Val, " ", ""))
				if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
					hide = true
				}
			}
		case "aria-controls":
			x.controls = append(x.controls, strings.Fields(a.Val)...)
		}
	}
	if hide && len(x.controls) > 0 {
		if id := attr(n, "id"); id != "" {
			for _, c := range x.controls {
				if c == id {
					return false
				}
			}
		}
	}
	return hide
}

// noteControls remembers the panels that control n opens.
func (x *extractor) noteControls(n *html.Node) {
	if v := attr(n, "aria-controls"); v != "" {
		x.controls = append(x.controls, strings.Fields(v)...)
	}
}

// readJSONLD keeps the longest articleBody found in a JSON-LD script.
func (x *extractor) readJSONLD(n *html.Node) {
	if n.FirstChild == nil || n.FirstChild.Type != html.TextNode {
		return
	}
	src := n.FirstChild.Data
	if !strings.Contains(src, "articleBody") {
		return
	}
	var v any
	if err := json.Unmarshal([]byte(strings.TrimSpace(src)), &v); err != nil {
		return
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > 8 {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				if s, ok := e.(string); ok && k == "articleBody" {
					if len(s) > len(x.ldBody) {
						x.ldBody = s
					}
					continue
				}
				walk(e, depth+1)
			}
		case []any:
			for _, e := range t {
				walk(e, depth+1)
			}
		}
	}
	walk(v, 0)
}

// isButtonLink reports whether link n is drawn as a button: a call to
// action ("Start free trial", "Book a demo", "Download the guide") that
// sends the reader to a form or a shop, not a link in the story's text.
func isButtonLink(n *html.Node) bool {
	if attr(n, "role") == "button" {
		return true
	}
	for w := range classWords(strings.ToLower(attr(n, "class"))) {
		switch w {
		case "btn", "button", "cta":
			return true
		}
	}
	return false
}

// summaryWords are the boilerplate words of a class that name a summary of
// the story: a standfirst or a dek repeats the description in a sentence
// or two and goes, but on a paper's page the abstract is the text itself.
// "more" is among them for the text a "Show more" control unfolds
// ("show-more", "read-more"): with several sentences and few links it is
// the story's, where a list of more stories is links.
var summaryWords = map[string]bool{
	"abstract": true, "dek": true, "standfirst": true, "strapline": true,
	"subtitle": true, "subheadline": true, "more": true,
}

// longSummary reports whether n is named only by summary words and holds
// more running text than any standfirst: several sentences, few links.
func (x *extractor) longSummary(n *html.Node) bool {
	s := x.st.get(n)
	if s.text-s.link < 600 || s.linkDensity() > 0.2 || s.flags&flagNegPart != 0 {
		return false
	}
	named, other := false, false
	for _, a := range n.Attr {
		if a.Key == "class" || a.Key == "id" {
			eachNegWord(strings.ToLower(a.Val), func(w string) {
				if summaryWords[w] {
					named = true
				} else {
					other = true
				}
			})
		}
	}
	return named && !other
}

// isPersonCard reports whether n is marked up as a person (schema.org
// Person microdata, or the page's author): an author box with a photo, a
// name and a short biography, which is about the writer, not the story.
func isPersonCard(n *html.Node) bool {
	if strings.EqualFold(attr(n, "itemprop"), "author") {
		return true
	}
	t := strings.ToLower(attr(n, "itemtype"))
	return strings.HasSuffix(t, "schema.org/person")
}
