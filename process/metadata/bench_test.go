package metadata

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// benchPages reads the pages benchmarks run on: testdata/pages, or the
// *.html files of the folder named by METADATA_BENCH_DIR.
func benchPages(b *testing.B) [][]byte {
	b.Helper()
	dir := os.Getenv("METADATA_BENCH_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "pages")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil || len(files) == 0 {
		b.Skipf("no pages in %s", dir)
	}
	var pages [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, data)
	}
	return pages
}

// BenchmarkParse is the yardstick: html.Parse alone on the same pages.
func BenchmarkParse(b *testing.B) {
	pages := benchPages(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, pg := range pages {
			if _, err := html.Parse(bytes.NewReader(pg)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkExtract is Extract alone on parsed pages.
func BenchmarkExtract(b *testing.B) {
	pages := benchPages(b)
	docs := make([]*goquery.Document, len(pages))
	for i, pg := range pages {
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(pg))
		if err != nil {
			b.Fatal(err)
		}
		docs[i] = doc
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, doc := range docs {
			Extract(doc, Hints{})
		}
	}
}

// BenchmarkLanguage is Language on a long German text declared German
// (confirmed by its commonest words) and declared English (the detector
// decides).
func BenchmarkLanguage(b *testing.B) {
	text := strings.Repeat("Die Stadt hat sich für den Bau der neuen Brücke entschieden, die im Frühjahr eröffnet wird. ", 40)
	for _, declared := range []string{"de", "en"} {
		b.Run(declared, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				Language(declared, text)
			}
		})
	}
}
