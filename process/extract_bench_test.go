package process_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	trafilatura "github.com/markusmobius/go-trafilatura"
	"golang.org/x/net/html"

	"github.com/newsflow/newsflow/process"
)

// BenchmarkExtract compares the whole extraction of a page (decode, parse,
// metadata, content) with a bare HTML parse and with go-trafilatura, over
// the pages in the folder named by NEWSFLOW_BENCH_PAGES:
//
//	NEWSFLOW_BENCH_PAGES=../shared/extraction-bench/dev go test -run '^$' -bench Extract -benchtime 3x ./process/
//
// Each iteration handles every page once. The side-by-side sub-benchmark
// reports newsflow's speed as a multiple of the other two's.
func BenchmarkExtract(b *testing.B) {
	dir := os.Getenv("NEWSFLOW_BENCH_PAGES")
	if dir == "" {
		b.Skip("NEWSFLOW_BENCH_PAGES is not set")
	}
	pages, size := loadBenchPages(b, dir)

	run := func(name string, f func(b *testing.B, page []byte)) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				for _, p := range pages {
					f(b, p)
				}
			}
			if s := time.Since(start).Seconds(); s > 0 {
				n := float64(b.N)
				b.ReportMetric(n*float64(len(pages))/s, "pages/s")
				b.ReportMetric(n*float64(size)/s/1e6, "MB/s")
			}
		})
	}
	run("newsflow", func(b *testing.B, page []byte) {
		// Pages without text are expected; only the work counts.
		_, _ = process.Extract(process.Page{URL: "https://example.com/news/story", Body: page})
	})
	run("htmlparse", func(b *testing.B, page []byte) {
		if _, err := html.Parse(bytes.NewReader(page)); err != nil {
			b.Fatalf("parse: %v", err)
		}
	})
	run("go-trafilatura", func(b *testing.B, page []byte) {
		_, _ = trafilatura.Extract(bytes.NewReader(page), trafilatura.Options{})
	})

	// side-by-side runs the three on each page in turn and reports their
	// speeds as ratios, so that the machine's load, which shifts between
	// sequential sub-benchmarks, falls on all three alike.
	b.Run("side-by-side", func(b *testing.B) {
		var nf, parse, traf time.Duration
		for b.Loop() {
			for _, p := range pages {
				t0 := time.Now()
				if _, err := html.Parse(bytes.NewReader(p)); err != nil {
					b.Fatalf("parse: %v", err)
				}
				t1 := time.Now()
				_, _ = process.Extract(process.Page{URL: "https://example.com/news/story", Body: p})
				t2 := time.Now()
				_, _ = trafilatura.Extract(bytes.NewReader(p), trafilatura.Options{})
				nf, parse, traf = nf+t2.Sub(t1), parse+t1.Sub(t0), traf+time.Since(t2)
			}
		}
		b.ReportMetric(parse.Seconds()/nf.Seconds(), "newsflow/htmlparse-speed")
		b.ReportMetric(traf.Seconds()/nf.Seconds(), "newsflow/trafilatura-speed")
	})
}

// loadBenchPages reads every *.html file in dir into memory.
func loadBenchPages(b *testing.B, dir string) (pages [][]byte, size int64) {
	b.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil {
		b.Fatalf("list pages in %s: %v", dir, err)
	}
	if len(files) == 0 {
		b.Fatalf("no *.html pages in %s", dir)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatalf("read page: %v", err)
		}
		pages = append(pages, data)
		size += int64(len(data))
	}
	return pages, size
}
