package process

import (
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/ingest"
)

// hostilePage puts markup, entities, control characters and script URLs
// in every place a record's field can come from.
const hostilePage = `<!DOCTYPE html><html lang="en&#x202e;"><head>
<title>Ferry &amp; <b>fun</b>` + "\x07" + `</title>
<link rel="canonical" href="javascript:alert(1)//harbour.example/ferry">
<meta property="og:image" content="javascript:alert(4)//x.png">
<meta property="og:site_name" content="Harbour <i>News</i>">
<meta property="article:section" content="Boats` + "\x1b[31m" + `">
<meta name="author" content="<script>alert(2)</script>Ann Berg">
<meta name="keywords" content="<u>ferries</u>, islands">
<meta name="description" content="&lt;img src=x onerror=alert(8)&gt;The ferry is back">
</head><body><article>
<p>HARBOURTOWN (<b>Coast Wire</b>) - The night ferry to the outer islands returns on Friday after a winter of repairs, the operator said.</p>
<p>Tickets for the first crossing sold out within an hour &lt;script&gt;alert(9)&lt;/script&gt; of going on sale.` + "\x00" + `</p>
<p><a href="javascript:alert(10)">Timetable</a> changes take effect next week for every crossing of the sound.</p>
</article></body></html>`

func hostileRaw() ingest.RawArticle {
	return ingest.RawArticle{
		SchemaVersion: ingest.RawSchemaVersion, ID: "hostile-1", Feed: "harbour\x00<b>", FeedURL: "javascript:alert(11)",
		URL: "https://harbour.example/2026/ferry", Status: 200,
		Header: map[string][]string{"Content-Type": {"text/html; charset=utf-8"}},
		Body:   []byte(hostilePage), FetchedAt: time.Date(2026, 4, 2, 6, 0, 0, 0, time.UTC),
		Item: ingest.FeedItem{
			GUID:        "<script>alert(12)</script>ferry-77",
			Title:       "<b>Night</b> ferry &amp; more\x00",
			Link:        "javascript:alert(6)",
			Description: "<p>The ferry returns.</p><script>alert(3)</script><p>Tickets &amp; times</p>",
			Content:     `<p>Full story</p><iframe src="javascript:alert(5)"></iframe><img src=x onerror=alert(13)>`,
			Authors:     []string{"<img src=x onerror=alert(7)>Kim Lund", "<b></b>"},
			Categories:  []string{"<u>boats</u>", "\x1b[0m"},
			Image:       "javascript:alert(4)//x.png",
			FeedTitle:   "Harbour\u202e News\x1b",
		},
	}
}

// tagStart finds what a browser would read as the start of a tag.
var tagStart = regexp.MustCompile(`<[a-zA-Z/!?]`)

// TestWorkerMakesEveryFieldSafe runs a hostile page and feed item through
// the worker and checks every string of the record, found by reflection so
// that a field added later is checked too.
func TestWorkerMakesEveryFieldSafe(t *testing.T) {
	rec := &recorder{}
	if err := NewWorker(rec).Handle(t.Context(), encodeRaw(t, hostileRaw())); err != nil {
		t.Fatal(err)
	}
	a := rec.got[0]
	urlFields := map[string]bool{"URL": true, "Link": true, "FeedURL": true, "Image": true}
	multiline := map[string]bool{"Text": true, "Description": true, "Content": true}
	checked := 0
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(path, v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					walk(path+"."+f.Name, v.Field(i))
				}
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.String {
				for i := range v.Len() {
					walk(path, v.Index(i))
				}
			}
		case reflect.String:
			checked++
			s := v.String()
			name := path[strings.LastIndex(path, ".")+1:]
			switch {
			case name == "HTML":
				if strings.Contains(s, "<script") || strings.Contains(s, "javascript:") || strings.Contains(s, "onerror") {
					t.Errorf("%s holds active content: %q", path, s)
				}
			case path == "Article.Text" || path == "Article.Title":
				// The page's own words, kept as they read: checked below.
				for _, r := range s {
					if (r < ' ' && r != '\n') || r == 0x7f || r == '\u202e' {
						t.Errorf("%s = %q holds control character %U", path, s, r)
					}
				}
			case urlFields[name]:
				if s != "" && !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
					t.Errorf("%s = %q, want an http(s) URL or nothing", path, s)
				}
			default:
				if tagStart.MatchString(s) || strings.Contains(s, "&amp;") || strings.Contains(s, "&lt;") || strings.Contains(s, "alert") {
					t.Errorf("%s = %q, want plain text without markup", path, s)
				}
				for _, r := range s {
					if (r < ' ' && !(r == '\n' && multiline[name])) || r == 0x7f || r == '\u202e' {
						t.Errorf("%s = %q holds control character %U", path, s, r)
					}
				}
			}
		}
	}
	walk("Article", reflect.ValueOf(a))
	if checked < 30 {
		t.Fatalf("checked only %d strings", checked)
	}
	// What was safe is kept.
	for _, c := range []struct{ field, got, want string }{
		{"url", a.URL, "https://harbour.example/2026/ferry"},
		{"title", a.Title, "Ferry & <b>fun</b>"}, // as a browser shows the title element's text
		{"site", a.SiteName, "Harbour News"},
		{"item title", a.Item.Title, "Night ferry & more"},
		{"item description", a.Item.Description, "The ferry returns.\n\nTickets & times"},
		{"item feed title", a.Item.FeedTitle, "Harbour News"},
		{"item image", a.Item.Image, ""},
		{"image", a.Image, ""},
		{"feed url", a.FeedURL, ""},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if len(a.Authors) != 1 || !strings.HasSuffix(a.Authors[0], "Ann Berg") {
		t.Errorf("authors %q", a.Authors)
	}
	// The text is what the page shows, escaped markup included (a page
	// about HTML keeps its examples); the HTML keeps it escaped.
	if want := "Tickets for the first crossing sold out within an hour <script>alert(9)</script> of going on sale."; !strings.Contains(a.Text, want) {
		t.Errorf("text %q, want it to hold %q", a.Text, want)
	}
	if want := "&lt;script&gt;alert(9)&lt;/script&gt;"; !strings.Contains(a.HTML, want) {
		t.Errorf("html %q, want it to hold %q", a.HTML, want)
	}
}

func TestSafeURL(t *testing.T) {
	base := mustURL(t, "https://harbour.example/news/ferry.html")
	tests := []struct{ in, want string }{
		{"https://harbour.example/a?b=c", "https://harbour.example/a?b=c"},
		{"/img/pier.jpg", "https://harbour.example/img/pier.jpg"},
		{"//cdn.example/x.png", "https://cdn.example/x.png"},
		{"javascript:alert(4)//x.png", ""},
		{" JavaScript:alert(1)", ""},
		{"java\tscript:alert(1)", ""},
		{"data:image/png;base64,AAAA", ""},
		{"ftp://harbour.example/file", ""},
		{"http:///nohost", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := safeURL(tt.in, base); got != tt.want {
			t.Errorf("safeURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := safeURL("/relative", nil); got != "" {
		t.Errorf("relative without a base = %q, want nothing", got)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		in        string
		multiline bool
		want      string
	}{
		{"Plain title", false, "Plain title"},
		{"  spaced \t out\n title ", false, "spaced out title"},
		{"<b>Bold</b> &amp; <i>italic</i>", false, "Bold & italic"},
		{"3 < 4 and AT&T", false, "3 < 4 and AT&T"},
		{"Lip fixes…</p</p?beauty spot: summer smiles and 3 < 4 <br>", false, "Lip fixes…</p</p?beauty spot: summer smiles and 3 < 4"},
		{"&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;Escaped twice", false, "Escaped twice"},
		{"<SCRIPT type=x>alert(1)</Script >after", false, "after"},
		{"The attacker added <script> to the page, and the rest stays.", false, "The attacker added to the page, and the rest stays."},
		{"<!-- note -->kept <!DOCTYPE html>text", false, "kept text"},
		{"Fans watched <The Palace: Tale of Jang Noksu> twice", false, "Fans watched <The Palace: Tale of Jang Noksu> twice"},
		{"<p>One</p><script>alert(1)</script><p>Two</p>", false, "One Two"},
		{"<p>One</p><style>p{}</style><p>Two<br>lines</p>", true, "One\n\nTwo\nlines"},
		{"First.\n\nSecond,\nwith a break.", true, "First.\n\nSecond,\nwith a break."},
		{"First.\n\n\n\nSecond. ", true, "First.\n\nSecond."},
		{"bell\x07 and \u202eoverride\x00", false, "bell and override"},
		{"", false, ""},
	}
	for _, tt := range tests {
		got := plainText(tt.in, tt.multiline)
		if got != tt.want {
			t.Errorf("plainText(%q, %v) = %q, want %q", tt.in, tt.multiline, got, tt.want)
		}
		if isPlain(tt.in, tt.multiline, true) && got != tt.in {
			t.Errorf("isPlain(%q, %v), but plainText gives %q", tt.in, tt.multiline, got)
		}
	}
}

func TestCleanText(t *testing.T) {
	for _, tt := range []struct {
		in        string
		multiline bool
		want      string
	}{
		{"Use a <br> inside <pre>, not &amp;nbsp;", false, "Use a <br> inside <pre>, not &amp;nbsp;"},
		{"  spaced \t out\n title ", false, "spaced out title"},
		{"One <script>x</script>.\n\n\nTwo\x00 \u202eend", true, "One <script>x</script>.\n\nTwo end"},
	} {
		if got := cleanText(tt.in, tt.multiline); got != tt.want {
			t.Errorf("cleanText(%q, %v) = %q, want %q", tt.in, tt.multiline, got, tt.want)
		}
	}
}

func FuzzPlainText(f *testing.F) {
	f.Add("<p>One</p>  two &amp; three\n\n\nfour\x00", true)
	f.Add("x", false)
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		got := plainText(s, multiline)
		if again := plainText(got, multiline); again != got && !strings.ContainsAny(got, "<&") {
			t.Fatalf("plainText is not stable: %q -> %q -> %q", s, got, again)
		}
		if isPlain(s, multiline, true) && got != s {
			t.Fatalf("isPlain(%q) but plainText gives %q", s, got)
		}
		clean := cleanText(s, multiline)
		if again := cleanText(clean, multiline); again != clean {
			t.Fatalf("cleanText is not stable: %q -> %q -> %q", s, clean, again)
		}
		if isPlain(s, multiline, false) && clean != s {
			t.Fatalf("isPlain(%q) without markup, but cleanText gives %q", s, clean)
		}
	})
}

// TestExtractKeepsTextAboutMarkup extracts an article about HTML: the tags
// it names are words of its title and text, kept as the page shows them,
// while the HTML field keeps them escaped.
func TestExtractKeepsTextAboutMarkup(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "html-tutorial.html"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Extract(Page{URL: "https://docs.example/br-tag", Body: body})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"you add a <script> element to its head, and the browser runs it",
		"a <style> block holds rules such as p { color: navy } and applies them",
		"AT&amp;T-style entities show up as written",
		"remember that a <br> inside a heading is rarely a good idea",
	} {
		if !strings.Contains(a.Text, want) {
			t.Errorf("text lost %q:\n%s", want, a.Text)
		}
	}
	if want := "A Short History of the <br> Tag"; a.Title != want {
		t.Errorf("title %q, want %q", a.Title, want)
	}
	if strings.Contains(a.HTML, "<script") || !strings.Contains(a.HTML, "&lt;script&gt;") {
		t.Errorf("html does not hold the escaped tag: %s", a.HTML)
	}
}
