package content

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// BenchmarkContent measures content extraction alone against the parse it
// follows, over the pages in the folder named by NEWSFLOW_BENCH_PAGES:
//
//	NEWSFLOW_BENCH_PAGES=../shared/extraction-bench/dev go test -run '^$' -bench Content ./process/content/
func BenchmarkContent(b *testing.B) {
	dir := os.Getenv("NEWSFLOW_BENCH_PAGES")
	if dir == "" {
		b.Skip("NEWSFLOW_BENCH_PAGES is not set")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no *.html pages in %s (%v)", dir, err)
	}
	var pages [][]byte
	var size int64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, data)
		size += int64(len(data))
	}
	for _, withContent := range []bool{false, true} {
		name := "parse"
		if withContent {
			name = "parse+content"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				for _, p := range pages {
					doc, err := goquery.NewDocumentFromReader(bytes.NewReader(p))
					if err != nil {
						b.Fatal(err)
					}
					if withContent {
						if _, err := Extract(context.Background(), doc, Options{}); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}
