package metadata

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite golden files")

// testNow is the reference time of the tests: dates after it are in the
// future.
var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// pageURLs are where the test pages were "fetched" from; pages not listed
// come from https://news.example/<name>.
var pageURLs = map[string]string{
	"url_only": "https://blog.example/2021/05/04/night-market-opens/?utm_medium=email",
	"amp":      "https://amp.journal.example/culture/amp/marche-de-noel.amp.html",
	"nodate":   "",
	// The site's name is a name in the host: "... - Linkpile".
	"headline_aggregator_tail": "https://tech.linkpile.example/story/footpath-lights",
}

// golden is Metadata as stored in testdata/golden: times as RFC 3339
// with their offset, "" when zero.
type golden struct {
	Title       string   `json:"title"`
	Authors     []string `json:"authors"`
	SiteName    string   `json:"site_name"`
	Section     string   `json:"section"`
	Description string   `json:"description"`
	Image       string   `json:"image"`
	Tags        []string `json:"tags"`
	Canonical   string   `json:"canonical"`
	Language    string   `json:"language"`
	Published   string   `json:"published"`
	Modified    string   `json:"modified"`
}

func toGolden(m Metadata) golden {
	f := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	return golden{
		Title: m.Title, Authors: m.Authors, SiteName: m.SiteName, Section: m.Section,
		Description: m.Description, Image: m.Image, Tags: m.Tags, Canonical: m.Canonical,
		Language: m.Language, Published: f(m.Published), Modified: f(m.Modified),
	}
}

func extractFile(t *testing.T, path string) Metadata {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".html")
	raw, ok := pageURLs[name]
	if !ok {
		raw = "https://news.example/" + name
	}
	h := Hints{Now: testNow}
	if raw != "" {
		if h.URL, err = url.Parse(raw); err != nil {
			t.Fatal(err)
		}
	}
	return Extract(doc, h)
}

// TestExtractGolden runs Extract on every page in testdata/pages and
// compares the result with testdata/golden/<page>.json.
func TestExtractGolden(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no test pages: %v", err)
	}
	for _, path := range pages {
		name := strings.TrimSuffix(filepath.Base(path), ".html")
		t.Run(name, func(t *testing.T) {
			got, err := json.MarshalIndent(toGolden(extractFile(t, path)), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			gpath := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(gpath), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(gpath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gpath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("metadata of %s differs from %s\ngot:\n%s\nwant:\n%s", path, gpath, got, want)
			}
		})
	}
}

// TestExtractDoesNotModify checks that Extract leaves the document as it
// found it: content extraction runs on the same tree afterwards.
func TestExtractDoesNotModify(t *testing.T) {
	pages, _ := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	for _, path := range pages {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var before, after bytes.Buffer
		if err := html.Render(&before, doc.Nodes[0]); err != nil {
			t.Fatal(err)
		}
		Extract(doc, Hints{Now: testNow})
		if err := html.Render(&after, doc.Nodes[0]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before.Bytes(), after.Bytes()) {
			t.Errorf("%s: Extract modified the document", path)
		}
	}
}

// TestExtractNilAndEmpty checks the degenerate inputs.
func TestExtractNilAndEmpty(t *testing.T) {
	if m := Extract(nil, Hints{}); m.Title != "" || !m.Published.IsZero() {
		t.Errorf("Extract(nil) = %+v, want zero", m)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://Example.org:443/a/b?utm_source=x#top")
	m := Extract(doc, Hints{URL: u, Now: testNow})
	if m.Canonical != "https://example.org/a/b" {
		t.Errorf("canonical of an empty page = %q, want the cleaned page URL", m.Canonical)
	}
	feed := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("", 2*3600))
	m = Extract(doc, Hints{FeedPublished: feed, Now: testNow})
	if !m.Published.Equal(feed) {
		t.Errorf("published = %v, want the feed item's %v", m.Published, feed)
	}
	m = Extract(doc, Hints{FeedPublished: testNow.AddDate(1, 0, 0), Now: testNow})
	if !m.Published.IsZero() {
		t.Errorf("published = %v from a feed date a year in the future, want none", m.Published)
	}
}
