package metadata

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// FuzzExtract checks that Extract never panics, never modifies the
// document and returns only dates within bounds and absolute URLs.
func FuzzExtract(f *testing.F) {
	pages, _ := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	for _, p := range pages {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`<script type="application/ld+json">{"@graph":[{"@type":["NewsArticle"],"author":[[{"name":1}]],"image":[{}]}]}</script>`))
	f.Add([]byte(`<html lang="zz-ZZ"><time datetime="9999-99-99">x</time><p class="date">31.12.1994</p>`))
	base, _ := url.Parse("https://news.example/2020/01/02/story")
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var before, after bytes.Buffer
		if err := html.Render(&before, doc.Nodes[0]); err != nil {
			return
		}
		m := Extract(doc, Hints{URL: base, Now: testNow})
		if err := html.Render(&after, doc.Nodes[0]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before.Bytes(), after.Bytes()) {
			t.Fatal("Extract modified the document")
		}
		if !m.Published.IsZero() && (m.Published.Year() < minYear || m.Published.After(testNow.AddDate(0, 0, 2))) {
			t.Fatalf("published %v out of bounds", m.Published)
		}
		if !m.Modified.IsZero() && (m.Modified.Year() < minYear || m.Modified.After(testNow.AddDate(0, 0, 2))) {
			t.Fatalf("modified %v out of bounds", m.Modified)
		}
		for _, u := range []string{m.Canonical, m.Image} {
			if u == "" {
				continue
			}
			pu, err := url.Parse(u)
			if err != nil || !pu.IsAbs() || pu.Host == "" {
				t.Fatalf("URL %q is not absolute", u)
			}
		}
	})
}
