package content

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// FuzzExtract feeds arbitrary markup to Extract: it must not panic, every
// paragraph must be one trimmed line of valid text without invisible
// characters, and the HTML must carry no script.
func FuzzExtract(f *testing.F) {
	f.Add(`<html><body><article><h1>T</h1><p>One, two, three.</p><p>Four<br><br>five</p></article></body></html>`, "T", "One, two, three.")
	f.Add(`<div class="related"><a href="javascript:x()">l</a></div><p>te<b>x</b>t</p><td>cell</td>`, "", "")
	f.Add(`<table><tr><td><div>a<br>b</div></td></tr></table><ul><li>x<li>y</ul>`, "a", "b")
	f.Add(`<p>Bring:</p><ol><li>• one<p>more</p></li><li>- two</li></ol><ul><li><ul><li>deep</li></ul></li></ul>`, "", "")
	f.Add(`<table><tr><th>a</th><td></td><td><table><tr><td>x</td><td>y</td></tr></table></td></tr><tr><td><p>p1</p><p>p2</p></td></tr></table>`, "", "")
	f.Add(`<script type="application/ld+json">{"articleBody":"Body text from JSON-LD, long enough to be used as the article."}</script><p>x</p>`, "", "")
	f.Add("<p>soft\u00adhyphen zero\u200bwidth</p><img src=x onerror=alert(1)>", "", "")
	f.Add(`<main><template id="B:0"></template></main><div hidden id="S:1"><template id="B:0"></template><p>one</p></div><div hidden id="S:0"><template id="B:1"></template><p>two, three</p></div>`, "", "")
	f.Add(`<div class="x-widget"><div class="x-widget-inner"><p>Builder block one, with commas, and enough words to count as running text here.</p></div></div><div class="x-widget"><h3>Tags</h3></div>`, "", "")
	base, _ := url.Parse("https://example.com/a/b.html")
	f.Fuzz(func(t *testing.T, src, title, desc string) {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(src))
		if err != nil {
			return
		}
		r := mustExtract(t, doc, Options{BaseURL: base, Title: title, Description: desc})
		for _, p := range r.Paragraphs {
			if p == "" || p != strings.TrimSpace(p) || strings.ContainsAny(p, "\n\u00ad\u200b") {
				t.Errorf("bad paragraph %q", p)
			}
			if !utf8.ValidString(p) {
				t.Errorf("invalid UTF-8 in %q", p)
			}
		}
		if txt := r.Text(); txt != strings.TrimSpace(txt) || strings.Contains(txt, "\n\n\n") {
			t.Errorf("bad text %q", txt)
		}
		checkSafeHTML(t, r.HTML)
	})
}

// allowedAttrs are the only attributes Result.HTML may carry, per element.
var allowedAttrs = map[string]map[string]bool{
	"a":   {"href": true},
	"img": {"src": true, "alt": true},
	"td":  {"colspan": true, "rowspan": true},
	"th":  {"colspan": true, "rowspan": true},
}

// checkSafeHTML parses out and fails on any element or attribute outside
// the allow-list and on any link that is not http(s) or mailto.
func checkSafeHTML(t *testing.T, out string) {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(out), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if !allowedTags[n.DataAtom] {
				t.Errorf("element <%s> in HTML %q", n.Data, out)
			}
			for _, a := range n.Attr {
				if !allowedAttrs[n.Data][a.Key] {
					t.Errorf("attribute %s on <%s> in HTML %q", a.Key, n.Data, out)
				}
				if a.Key == "href" || a.Key == "src" {
					u := strings.ToLower(a.Val)
					if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "mailto:") {
						t.Errorf("unsafe URL %q in HTML %q", a.Val, out)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
}

// FuzzTextHelpers checks the allocation-free forms of the text helpers
// against what they stand for: appendEscaped against html.EscapeString,
// isHashtags and isAddressOnly against the field splits they replace.
func FuzzTextHelpers(f *testing.F) {
	for _, s := range []string{"", "a & b <c> 'd' \"e\"\r", "#tag, #other", " #a,,#b ", "#a b", "x@y.z and w@v.u", "a@b.c d e", "é#, #ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendEscaped([]byte("x"), []byte(s))), "x"+html.EscapeString(s); got != want {
			t.Errorf("appendEscaped(%q) = %q, want %q", s, got, want)
		}
		tags := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
		want := len(tags) > 0
		for _, f := range tags {
			want = want && strings.HasPrefix(f, "#")
		}
		if got := isHashtags(s); got != want {
			t.Errorf("isHashtags(%q) = %v, want %v", s, got, want)
		}
		fields := strings.Fields(s)
		addr := 0
		for _, f := range fields {
			if strings.Contains(f, "@") && strings.Contains(f, ".") && !strings.Contains(f, "/") {
				addr++
			}
		}
		want = len(fields) > 0 && len(fields) <= 12 && addr > 0 && addr*2 >= len(fields)
		if got := isAddressOnly(s); got != want {
			t.Errorf("isAddressOnly(%q) = %v, want %v", s, got, want)
		}
	})
}

// FuzzClassNameFlags checks that reading a class name by name gives what
// classFlags gives for the whole class lower-cased.
func FuzzClassNameFlags(f *testing.F) {
	for _, s := range []string{"article-body has-sharing", "Sidebar  Widget\tcontent", "post__footer x\fARTICLE", "text-lg \u212Aomment share-bar"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, class string) {
		st := newStats()
		defer st.release()
		for range 2 { // the second time from the cache
			if got, want := st.classNameFlags(class), classFlags(strings.ToLower(class), nil); got != want {
				t.Fatalf("classNameFlags(%q) = %b, want %b", class, got, want)
			}
		}
	})
}
