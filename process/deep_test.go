package process

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// deepPage is a made-up page whose article sits inside depth nested
// wrappers, as some site builders write them.
func deepPage(depth int) []byte {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><title>Harbour Ferry Returns | Coast Weekly</title>` +
		`<script>var nav = "<div>not text</div>";</script></head><body>`)
	for range depth {
		b.WriteString(`<div class="wrap"><span>`)
	}
	b.WriteString(`<article><h1>Harbour Ferry Returns After Winter Repairs</h1>` +
		`<p>The old ferry across the harbour is running again after four months in the dry dock, its owners said on Monday.</p>` +
		`<p>Engineers replaced the propeller shaft and rebuilt the wheelhouse, which had leaked since the storms of last autumn.</p>` +
		`<p>Tickets cost the same as before, and the first crossing leaves the north pier at seven every morning.</p></article>`)
	for range depth {
		b.WriteString(`</span></div>`)
	}
	b.WriteString(`</body></html>`)
	return b.Bytes()
}

// TestExtractDeepPage checks that a page nested far deeper than the HTML
// parser allows is extracted, not failed: its article and headline come
// through, and no script text leaks into them.
func TestExtractDeepPage(t *testing.T) {
	body := deepPage(2000)
	if _, err := html.Parse(bytes.NewReader(body)); err == nil {
		t.Fatal("the test page parses as it is; it no longer tests the fallback")
	}
	a, err := Extract(Page{URL: "https://coast.example/news/ferry", Body: body})
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if a.Title != "Harbour Ferry Returns After Winter Repairs" {
		t.Errorf("title = %q", a.Title)
	}
	for _, want := range []string{"running again after four months", "rebuilt the wheelhouse", "leaves the north pier"} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, a.Text)
		}
	}
	if strings.Contains(a.Text, "not text") {
		t.Errorf("script text leaked into the article:\n%s", a.Text)
	}
	if n := strings.Count(a.Text, "\n\n") + 1; n != 3 {
		t.Errorf("text has %d paragraphs, want 3:\n%s", n, a.Text)
	}
}

// TestFlattenDeep checks the flattened page's nesting and that it keeps
// text, raw-text elements and paragraphs apart.
func TestFlattenDeep(t *testing.T) {
	flat := flattenDeep(deepPage(2000))
	doc, err := html.Parse(bytes.NewReader(flat))
	if err != nil {
		t.Fatalf("flattened page does not parse: %v", err)
	}
	deepest, paras := 0, 0
	var walk func(*html.Node, int)
	walk = func(n *html.Node, d int) {
		deepest = max(deepest, d)
		if n.Type == html.ElementNode && n.Data == "p" {
			paras++
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, d+1)
		}
	}
	walk(doc, 0)
	if deepest > maxDepth+4 {
		t.Errorf("flattened page nests %d deep, want at most about %d", deepest, maxDepth)
	}
	if paras != 3 {
		t.Errorf("flattened page has %d paragraphs, want 3", paras)
	}
	if !bytes.Contains(flat, []byte(`<script>var nav = "<div>not text</div>";</script>`)) {
		t.Error("the script was not kept whole")
	}
	shallow := []byte(`<p>One<p>Two<div><b>three</b></div>`)
	if got := flattenDeep(shallow); !bytes.Equal(got, shallow) {
		t.Errorf("a shallow page changed: %s", got)
	}
}

// FuzzFlattenDeep checks that flattenDeep never panics, leaves a page too
// short to nest past wrapperDepth unchanged, and always yields a page the
// parser accepts.
func FuzzFlattenDeep(f *testing.F) {
	f.Add(deepPage(600))
	f.Add([]byte(`<p>One<p>Two<script>"</div>"</script><table><tr><td>x</table>`))
	f.Add([]byte(strings.Repeat("<b><i>", 400) + "text"))
	f.Fuzz(func(t *testing.T, data []byte) {
		flat := flattenDeep(data)
		if len(data) < 3*wrapperDepth && !bytes.Equal(flat, data) {
			t.Fatalf("a short page changed:\n%q\n%q", data, flat)
		}
		if _, err := html.Parse(bytes.NewReader(flat)); err != nil {
			t.Fatalf("flattened page does not parse: %v", err)
		}
	})
}
