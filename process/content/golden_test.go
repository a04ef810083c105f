package content

import (
	"bytes"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenOptions reads the hints the metadata step would give: the page's
// og:title (or <title>) and its description.
func goldenOptions(doc *goquery.Document) Options {
	o := Options{}
	if v, ok := doc.Find(`meta[property="og:title"]`).Attr("content"); ok {
		o.Title = v
	} else {
		o.Title = doc.Find("title").First().Text()
	}
	for _, sel := range []string{`meta[name="description"]`, `meta[property="og:description"]`} {
		if v, ok := doc.Find(sel).Attr("content"); ok {
			o.Description = v
			break
		}
	}
	o.BaseURL, _ = url.Parse("https://news.example.com/section/story.html")
	return o
}

// TestGolden extracts every testdata/*.html page and compares the text and
// the HTML with testdata/<page>.golden; -update rewrites the golden files.
func TestGolden(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("testdata", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no testdata pages")
	}
	for _, page := range pages {
		name := strings.TrimSuffix(filepath.Base(page), ".html")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(bytes.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			r := mustExtract(t, doc, goldenOptions(doc))
			got := r.Text() + "\n\n----- HTML -----\n" + strings.ReplaceAll(r.HTML, "</p>", "</p>\n") + "\n"
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("extraction of %s differs from %s:\n--- got ---\n%s\n--- want ---\n%s", page, golden, got, want)
			}
		})
	}
}

// TestGoldenBoilerplate checks, independently of the golden files, that no
// page's text keeps the boilerplate the pages were written with.
func TestGoldenBoilerplate(t *testing.T) {
	boilerplate := []string{
		"cookies", "Advertisement", "Share", "Related", "Most read", "Sign up",
		"comment", "All rights reserved", "Latest news", "Popular", "Home",
		"Photo:", "Read more", "covers grain", "Contact us", "free articles",
	}
	pages, _ := filepath.Glob(filepath.Join("testdata", "*.html"))
	for _, page := range pages {
		src, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		opts := goldenOptions(doc)
		r := mustExtract(t, doc, opts)
		if len(r.Paragraphs) < 4 {
			t.Errorf("%s: only %d paragraphs: %q", page, len(r.Paragraphs), r.Paragraphs)
		}
		text := strings.Join(r.Paragraphs, "\n")
		for _, b := range boilerplate {
			if strings.Contains(text, b) {
				t.Errorf("%s: text keeps boilerplate %q", page, b)
			}
		}
		if n := strings.Count(foldKey(text), foldKey(opts.Description)); opts.Description != "" && n > 1 {
			t.Errorf("%s: the lead appears %d times", page, n)
		}
		if opts.Title != "" && r.Paragraphs[0] == opts.Title {
			t.Errorf("%s: text starts with the headline", page)
		}
		if strings.Contains(r.HTML, "onclick") || strings.Contains(r.HTML, `href="/`) || strings.Contains(r.HTML, `src="/`) {
			t.Errorf("%s: HTML has unsafe or relative attributes: %s", page, r.HTML)
		}
	}
}
