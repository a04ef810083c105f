package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// parseBody parses src as a page and returns its <body>.
func parseBody(t *testing.T, src string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	body := findBody(doc)
	if body == nil {
		t.Fatal("no body")
	}
	return body
}

func texts(ps []para) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.text
	}
	return out
}

func TestParagraphsJoining(t *testing.T) {
	tests := []struct {
		name string
		html string
		want []string
	}{
		{"inline tags join without spaces", `<p>un<b>believ</b><i>able</i> news</p>`, []string{"unbelievable news"}},
		{"inline tags keep spaces in the text", `<p>the <a href="/x">mayor</a> said</p>`, []string{"the mayor said"}},
		{"paragraphs break", `<p>First one.</p><p>Second one.</p>`, []string{"First one.", "Second one."}},
		{"divs break without spaces in the source", `<div>end</div><div>Next</div>`, []string{"end", "Next"}},
		{"list items break", `<ul><li>one</li><li>two</li></ul>`, []string{"one", "two"}},
		{"headings break", `<h2>Heading</h2>Text after`, []string{"Heading", "Text after"}},
		{"table cells break", `<table><tr><td>a1</td><td>b1</td></tr></table>`, []string{"a1", "b1"}},
		{"single br is a space", `<p>line one<br>line two</p>`, []string{"line one line two"}},
		{"double br breaks", `<div>part one<br><br>part two<br> <br>part three</div>`, []string{"part one", "part two", "part three"}},
		{"blockquote breaks", `<p>He said:</p><blockquote>quoted words</blockquote>after`, []string{"He said:", "quoted words", "after"}},
		{"white space collapses", "<p>  many \n\t spaces\u00a0here  </p>", []string{"many spaces here"}},
		{"soft hyphens and zero-width characters go", "<p>news\u00adpaper zero\u200bwidth\ufeff</p>", []string{"newspaper zerowidth"}},
		{"span inside block stays inline", `<p>a <span>b</span>c</p>`, []string{"a bc"}},
		{"nested block inside inline breaks", `<span>left<div>inner</div>right</span>`, []string{"left", "inner", "right"}},
		{"figure captions left out", `<figure><img src="a.jpg"><figcaption>A caption</figcaption></figure><p>Body</p>`, []string{"Body"}},
		{"scripts left out", `<p>before<script>var x = 1;</script>after</p>`, []string{"beforeafter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := parseBody(t, "<html><body>"+tt.html+"</body></html>")
			got := texts(paragraphs([]*html.Node{body}, true))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTextLayout: the record text writes lists and data tables a line per
// item or row.
func TestTextLayout(t *testing.T) {
	tests := []struct {
		name string
		html string
		want string
	}{
		{"items one to a line", `<p>Pack these.</p><ul><li>a torch</li><li>a map</li></ul><p>Then go.</p>`,
			"Pack these.\n\n- a torch\n- a map\n\nThen go."},
		{"an introducing line keeps its list", `<p>You will need:</p><ol><li>flour</li><li>water</li></ol>`,
			"You will need:\n- flour\n- water"},
		{"an item's own bullet is replaced", `<ul><li>• first</li><li>- second</li></ul>`, "- first\n- second"},
		{"an item's later paragraphs follow it", `<ul><li><p>Step one.</p><p>Wait an hour.</p></li><li>Step two.</li></ul>`,
			"- Step one.\nWait an hour.\n- Step two."},
		{"two lists apart", `<ul><li>red</li></ul><p>or</p><ul><li>blue</li></ul>`, "- red\n\nor\n\n- blue"},
		{"a table in an item is not the item", `<ul><li>Prices:<table><tr><td>181</td></tr></table></li></ul>`, "- Prices:\n\n181"},
		{"a table's rows one to a line", `<p>Tides:</p><table><thead><tr><th>Port</th><th>High</th></tr></thead><tbody><tr><td>Dover</td><td>06:12</td></tr><tr><td>Hull</td><td></td></tr></tbody></table><p>Next.</p>`,
			"Tides:\n\n| Port | High |\n| Dover | 06:12 |\n| Hull | |\n\nNext."},
		{"a table laid out a page keeps its paragraphs", `<table><tr><td><p>First part.</p><p>Second part.</p></td><td>Menu</td></tr></table>`,
			"First part.\n\nSecond part.\n\nMenu"},
		{"a long cell is not a row's", `<table><tr><td>` + strings.Repeat("word ", 70) + `</td><td>Side</td></tr></table>`,
			strings.TrimSpace(strings.Repeat("word ", 70)) + "\n\nSide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Result
			r.setParagraphs(paragraphs([]*html.Node{parseBody(t, "<html><body>"+tt.html+"</body></html>")}, true))
			if got := r.Text(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDedupe(t *testing.T) {
	tests := []struct {
		name        string
		title, desc string
		in, want    []string
	}{
		{
			name:  "headline repeated as subtitle",
			title: "Flood waters rise in the valley",
			in:    []string{"Flood waters rise in the valley", "The river broke its banks on Sunday night, officials said."},
			want:  []string{"The river broke its banks on Sunday night, officials said."},
		},
		{
			name:  "headline with site name",
			title: "Flood waters rise in the valley | Valley Gazette",
			in:    []string{"Flood waters rise in the valley", "The river broke its banks."},
			want:  []string{"The river broke its banks."},
		},
		{
			name: "lead repeated by the body with a dateline",
			desc: "The river broke its banks on Sunday night, officials said.",
			in: []string{
				"The river broke its banks on Sunday night, officials said.",
				"MILLBROOK (Valley Wire) - The river broke its banks on Sunday night, officials said.",
				"Rescue teams worked through the night.",
			},
			want: []string{
				"MILLBROOK (Valley Wire) - The river broke its banks on Sunday night, officials said.",
				"Rescue teams worked through the night.",
			},
		},
		{
			name: "lead repeated by the body without a description",
			in: []string{
				"The river broke its banks on Sunday night, officials in the valley said.",
				"MILLBROOK (Valley Wire) - The river broke its banks on Sunday night, officials in the valley said.",
			},
			want: []string{"MILLBROOK (Valley Wire) - The river broke its banks on Sunday night, officials in the valley said."},
		},
		{
			name: "lead kept when the body does not repeat it",
			desc: "A short summary of the story.",
			in:   []string{"A short summary of the story.", "The body tells something else entirely."},
			want: []string{"A short summary of the story.", "The body tells something else entirely."},
		},
		{
			name: "repeated paragraph kept once",
			in:   []string{"One.", "Two.", "Three.", "This long paragraph appears twice on the page, once as a pull quote and once in the body.", "Other text.", "This long paragraph appears twice on the page, once as a pull quote and once in the body."},
			want: []string{"One.", "Two.", "Three.", "This long paragraph appears twice on the page, once as a pull quote and once in the body.", "Other text."},
		},
		{
			name: "repeated short line kept",
			in:   []string{"First post.", "— The Council (@council) May 2, 2026", "Second post.", "— The Council (@council) May 2, 2026"},
			want: []string{"First post.", "— The Council (@council) May 2, 2026", "Second post.", "— The Council (@council) May 2, 2026"},
		},
		{
			name: "notices and date lines dropped",
			in:   []string{"Advertisement", "Nov. 20, 2019 5:52 AM EST", "The council met on Nov. 20, 2019 to vote.", "Jane Roe contributed to this report."},
			want: []string{"The council met on Nov. 20, 2019 to vote."},
		},
		{
			name: "bylines, hashtags and ratings dropped",
			in:   []string{"By Jane Roe and John Doe", "By the end of the day, the road was open again.", "#flood #valley", "Rate this post"},
			want: []string{"By the end of the day, the road was open again."},
		},
		{
			name: "labels of the page's own navigation dropped",
			in:   []string{"Table of Contents", "The ferry runs twice a day.", "Back to top"},
			want: []string{"The ferry runs twice a day."},
		},
		{
			name: "bylines with a role and a date dropped",
			in:   []string{"Written by Jane Roe", "By Jane Roe ⋅ Senior Editor ⋅ Updated May 6, 2026", "Written by hand, the letters took a week to arrive."},
			want: []string{"Written by hand, the letters took a week to arrive."},
		},
		{
			name: "affiliate disclosure dropped, an article's sentence about affiliate links kept",
			in:   []string{"This post may contain affiliate links. If you buy through them we earn a small commission.", "Shops pay bloggers through affiliate links and discount codes."},
			want: []string{"Shops pay bloggers through affiliate links and discount codes."},
		},
		{
			name: "wire credits and photo captions dropped",
			in:   []string{"The dam held.", "(Reporting by Jane Roe; editing by John Doe)", "The spillway at dawn. (Photo: Valley Wire)", "Photo: Valley Wire"},
			want: []string{"The dam held."},
		},
		{
			name: "a time heading alone is kept",
			in:   []string{"4:14 p.m.", "Police closed the bridge."},
			want: []string{"4:14 p.m.", "Police closed the bridge."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &extractor{opts: Options{Title: tt.title, Description: tt.desc}, st: newStats()}
			var ps []para
			for _, s := range tt.in {
				ps = append(ps, para{text: s})
			}
			got := texts(x.dedupe(ps))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	base, _ := url.Parse("https://news.example.com/world/story.html")
	tests := []struct {
		name    string
		html    string
		want    []string // substrings the output must have
		notWant []string // substrings it must not have
	}{
		{
			name:    "relative links made absolute",
			html:    `<p>See <a href="../local/other.html" class="x" onclick="evil()">this</a> and <img src="/img/a.jpg" alt="A" width="3"></p>`,
			want:    []string{`<a href="https://news.example.com/local/other.html">this</a>`, `<img src="https://news.example.com/img/a.jpg" alt="A">`},
			notWant: []string{"onclick", "class=", "width="},
		},
		{
			name:    "script URLs dropped",
			html:    `<p><a href="javascript:alert(1)">one</a> <a href=" JaVaScRiPt:alert(2)">two</a> <a href="vbscript:x">three</a> <img src="data:image/svg+xml,<svg onload=alert(3)>"></p>`,
			want:    []string{"<a>one</a>", "<a>two</a>", "<a>three</a>"},
			notWant: []string{"javascript", "JaVaScRiPt", "vbscript", "data:", "<img"},
		},
		{
			name:    "script and style elements dropped",
			html:    `<div><p>text</p><script>alert(1)</script><style>p{}</style><iframe src="https://evil.example"></iframe></div>`,
			want:    []string{"<p>text</p>"},
			notWant: []string{"alert", "iframe", "<style"},
		},
		{
			name:    "event handlers and unknown tags removed",
			html:    `<div onmouseover="x()"><p style="color:red">Hi <span onclick="y()">there</span><svg><script>z()</script></svg></p></div>`,
			want:    []string{"<p>Hi there</p>"},
			notWant: []string{"onmouseover", "style", "span", "svg", "z()"},
		},
		{
			name:    "loose text wrapped in paragraphs",
			html:    `<div>Loose text <b>bold</b><div>inner block</div></div>`,
			want:    []string{"<p>Loose text <b>bold</b></p>", "<p>inner block</p>"},
			notWant: []string{"<div"},
		},
		{
			name: "allowed structure kept",
			html: `<h1>Top</h1><h3>Sub</h3><ul><li>one</li></ul><blockquote><p>q</p></blockquote><table><tr><td colspan="2">c</td></tr></table>`,
			want: []string{"<h2>Top</h2>", "<h3>Sub</h3>", "<ul><li>one</li></ul>", "<blockquote><p>q</p></blockquote>", `<td colspan="2">c</td>`},
		},
		{
			name:    "text escaped",
			html:    `<p>a &lt;script&gt; tag &amp; more</p>`,
			want:    []string{"a &lt;script&gt; tag &amp; more"},
			notWant: []string{"<script>"},
		},
		{
			name: "no-break space keeps words apart",
			html: "<p>end\u00a0<span>next</span> and\u00a0<b>bold</b></p>",
			want: []string{"<p>end next and <b>bold</b></p>"},
		},
		{
			name: "lazy image source",
			html: `<p><img src="data:image/gif;base64,R0lGOD" data-src="/lazy.jpg"></p>`,
			want: []string{`<img src="https://news.example.com/lazy.jpg">`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := parseBody(t, "<html><body>"+tt.html+"</body></html>")
			got := sanitize([]*html.Node{body}, base)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output %q lacks %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("output %q has %q", got, w)
				}
			}
		})
	}
}

func TestClassWeight(t *testing.T) {
	tests := []struct {
		class string
		want  int
	}{
		{"article-body", 2},
		{"post-content entry-content", 2},
		{"related-articles", -1},
		{"share-bar", -1},
		{"sidebar", -1},
		{"page-content has-sidebar", 1},
		{"single-content-author__about", -1}, // the head word is the last
		{"menu-content", 1},
		{"content\tsite-menu", 1},
		{"story", 1},
		{"newscaption", -1},
		{"ad-slot", -1},
		{"headline", 0},
		{"pane-header-alignment-left", 0},  // a style of the pane's header, not a header
		{"site-header header-style-2", -1}, // the other class says it
		{"", 0},
	}
	for _, tt := range tests {
		if got := classWeight(tt.class); got != tt.want {
			t.Errorf("classWeight(%q) = %d, want %d", tt.class, got, tt.want)
		}
	}
}

func TestIsHeadingAnchor(t *testing.T) {
	for _, tt := range []struct {
		id, inner string
		want      bool
	}{
		{"1-heading-why-is-running-so-popular", "<h2>Why is running so popular?</h2><p>Soft ground.</p>", true},
		{"how_to_share_a_path_with_walkers", "<h3>How to share a path</h3><p>Walkers first, and a word to the wise.</p>", true},
		{"popular-posts", "<h3>Popular posts</h3>", false},                        // a role's name, however its heading reads
		{"more-from-our-authors-list", "<h3>Our favourite headlamps</h3>", false}, // not the element's words
		{"related-stories-for-you-today", "<p>Related stories</p>", false},
	} {
		body := parseBody(t, `<div id="x">`+tt.inner+`</div>`)
		if got := isHeadingAnchor(tt.id, body.FirstChild); got != tt.want {
			t.Errorf("isHeadingAnchor(%q, %q) = %v, want %v", tt.id, tt.inner, got, tt.want)
		}
	}
}

// TestExtractChoosesArticle checks the whole pipeline on a page whose
// navigation and related list hold more links than text.
func TestExtractChoosesArticle(t *testing.T) {
	body := strings.Repeat(`<p>The harbour board approved the new pier on Tuesday, after a long debate, a public hearing, and two rounds of revisions to the plan.</p>`, 6)
	src := `<html><head><title>Pier approved</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<div class="layout"><div class="main-column"><h1>Pier approved</h1>` + body + `</div>
<div class="related"><ul><li><a href="/a">Another story about boats and harbours</a></li><li><a href="/b">A story about the weather this week</a></li></ul></div>
<div id="comments"><p>Great news, I have waited for this for years, finally!</p></div></div>
<footer>Copyright Example News</footer></body></html>`
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	r := mustExtract(t, doc, Options{Title: "Pier approved"})
	if len(r.Paragraphs) != 1 {
		// six identical paragraphs collapse to one
		t.Fatalf("got %d paragraphs, want 1: %q", len(r.Paragraphs), r.Paragraphs)
	}
	text := strings.Join(r.Paragraphs, "\n")
	for _, bad := range []string{"Home", "Another story", "Great news", "Copyright", "Pier approved"} {
		if strings.Contains(text, bad) {
			t.Errorf("text has %q: %q", bad, text)
		}
	}
	if !strings.Contains(r.HTML, "<p>The harbour board") {
		t.Errorf("HTML lacks the body: %q", r.HTML)
	}
}

func TestExtractEmpty(t *testing.T) {
	for _, src := range []string{"", "<html></html>", "<p></p>", "just text"} {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		r := mustExtract(t, doc, Options{})
		if src == "just text" {
			if len(r.Paragraphs) != 1 || r.Paragraphs[0] != "just text" {
				t.Errorf("Extract(%q) = %q", src, r.Paragraphs)
			}
			continue
		}
		if len(r.Paragraphs) != 0 {
			t.Errorf("Extract(%q) = %q, want nothing", src, r.Paragraphs)
		}
	}
	if r := mustExtract(t, nil, Options{}); len(r.Paragraphs) != 0 {
		t.Errorf("Extract(nil) = %q", r.Paragraphs)
	}
}

// TestClassParts checks that every class part can be indexed: three bytes
// at least, lower-case.
func TestClassParts(t *testing.T) {
	for _, list := range [][]string{strongPositiveParts, negativeParts} {
		for _, p := range list {
			if len(p) < 3 || p != strings.ToLower(p) {
				t.Errorf("class part %q: want 3+ lower-case bytes", p)
			}
		}
	}
}

// TestExtractJSONLDFallback checks that a page whose markup holds no body
// (it is loaded by script) takes the JSON-LD articleBody, and that without
// one the fallback gathers no stray paragraphs.
func TestExtractJSONLDFallback(t *testing.T) {
	body := strings.Repeat("The ferry resumed service on Monday after repairs to its engine, the operator said. ", 8)
	ld := `{"@context":"https://schema.org","@graph":[{"@type":"NewsArticle","articleBody":"` + body + `\n\nPassengers were offered refunds."}]}`
	footer := `<footer><p>Registered as a news outlet with the national media authority, licence number 12345, issued in 2019.</p></footer>`
	src := `<html><head><script type="application/ld+json">` + ld + `</script></head><body><h1>Ferry back</h1><div class="article-body"></div>` + footer + `</body></html>`
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	r := mustExtract(t, doc, Options{})
	if len(r.Paragraphs) != 2 || !strings.HasPrefix(r.Paragraphs[0], "The ferry resumed") || r.Paragraphs[1] != "Passengers were offered refunds." {
		t.Errorf("paragraphs = %q", r.Paragraphs)
	}
	if !strings.HasPrefix(r.HTML, "<p>The ferry resumed") {
		t.Errorf("HTML = %q", r.HTML)
	}

	src = `<html><body><h1>Ferry back</h1><div class="article-body"></div><div class="notes"><p>Registered as a news outlet with the national media authority, licence number 12345, issued in 2019.</p></div></body></html>`
	doc, err = goquery.NewDocumentFromReader(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if r := mustExtract(t, doc, Options{}); len(r.Paragraphs) > 1 {
		t.Errorf("page without a body gave %q", r.Paragraphs)
	}
}

// TestExtractNarrowsToJSONLD checks that on a page that runs several stories
// in one feed, the JSON-LD articleBody picks the page's own story.
func TestExtractNarrowsToJSONLD(t *testing.T) {
	sentence := func(topic string, i int) string {
		return fmt.Sprintf("Item %d: the council said on Tuesday that the %s plan, which was debated for %d months, would go ahead in spring.", i, topic, i+2)
	}
	story := func(topic string) string {
		var b strings.Builder
		for i := range 5 {
			b.WriteString("<p>" + sentence(topic, i) + "</p>")
		}
		return b.String()
	}
	var own strings.Builder
	for i := range 5 {
		own.WriteString(sentence("bridge", i) + " ")
	}
	src := `<html><head><script type="application/ld+json">{"@type":"NewsArticle","articleBody":"` + own.String() + `"}</script></head><body><div class="stream">` +
		`<div class="entry">` + story("bridge") + `</div><div class="entry">` + story("library") + `</div><div class="entry">` + story("harbour") + `</div>` +
		`</div></body></html>`
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	r := mustExtract(t, doc, Options{})
	text := strings.Join(r.Paragraphs, "\n")
	if !strings.Contains(text, "bridge plan") || strings.Contains(text, "library") || strings.Contains(text, "harbour") {
		t.Errorf("text = %q", text)
	}
}

// mustExtract runs Extract with a background context.
func mustExtract(t testing.TB, doc *goquery.Document, opts Options) Result {
	t.Helper()
	r, err := Extract(context.Background(), doc, opts)
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	return r
}

// TestExtractCancelled checks that a done context stops the extraction
// with the context's error.
func TestExtractCancelled(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "harbour-pier.html"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Extract(ctx, doc, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Extract with a cancelled context: err = %v, want %v", err, context.Canceled)
	}
	if len(r.Paragraphs) != 0 || r.HTML != "" {
		t.Errorf("Extract with a cancelled context returned text: %q", r.Paragraphs)
	}
}

func TestUnmojibake(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"it\u00e2\u0080\u0099s", "it’s"},           // via Latin-1
		{"it\u00e2\u20ac\u2122s", "it’s"},           // via Windows-1252
		{"caf\u00c3\u00a9 au lait", "café au lait"}, // é
		{"12\u00c2\u00a0kg", "12 kg"},               // a no-break space, then collapsed
		{"café, déjà vu, Straße, Øre", "café, déjà vu, Straße, Øre"},
		{"â€", "â€"}, // cut short: kept
		{"It’s “quoted” – fine", "It’s “quoted” – fine"},
	} {
		if got := normalize(c.in); got != c.want {
			t.Errorf("normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
