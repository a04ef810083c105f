package process

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/newsflow/newsflow/ingest"
)

// bigPage is a made-up news page of about size bytes shaped like the big
// pages of the web: an inline data blob, navigation markup and a long
// article.
func bigPage(size int) []byte {
	var b strings.Builder
	b.Grow(size + 4096)
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Harbour council votes on the long pier</title>`)
	b.WriteString(`<meta property="og:image" content="https://harbour.example/pier.jpg"></head><body>`)
	b.WriteString(`<script id="data" type="application/json">{"items":[`)
	for b.Len() < size*4/10 {
		b.WriteString(`{"id":12345,"headline":"A story about the harbour and its boats","tags":["harbour","pier"]},`)
	}
	b.WriteString(`{}]}</script><nav><ul>`)
	for b.Len() < size*6/10 {
		b.WriteString(`<li><a href="/section/harbour/story-about-boats">A story about the harbour and its boats</a></li>`)
	}
	b.WriteString(`</ul></nav><article><h1>Harbour council votes on the long pier</h1>`)
	for i := 0; b.Len() < size-64; i++ {
		fmt.Fprintf(&b, "<p>Paragraph %d: the council met again on Tuesday to weigh the cost of repairing the long pier against building a new one further out.</p>", i)
	}
	b.WriteString(`</article></body></html>`)
	return []byte(b.String())
}

// heapPeak samples the heap's object bytes while f runs and returns the
// highest value above what was live before f.
func heapPeak(f func()) uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// BenchmarkWorkerMemory handles one 15 MB page per iteration, from the
// encoded message to the published record, and reports the peak heap above
// what was live before (the message, held to the end as the consume loop
// holds it until its ack) and the bytes allocated, per MB of page. The page is UTF-8, or windows-1252 as its header says (decoded
// to UTF-8 on the way). The collector runs at GOGC=10 meanwhile, so that the
// peak is close to what is live rather than to the collector's pacing:
//
//	go test -run '^$' -bench WorkerMemory -benchtime 3x ./process/
func BenchmarkWorkerMemory(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	page := bigPage(15 << 20)
	pageMB := float64(len(page)) / (1 << 20)
	b.Run("htmlparse", func(b *testing.B) {
		// A bare parse of the same page, for reference: the tree alone.
		var peak uint64
		for b.Loop() {
			peak = max(peak, heapPeak(func() {
				doc, err := html.Parse(bytes.NewReader(page))
				if err != nil {
					b.Fatal(err)
				}
				runtime.KeepAlive(doc)
			}))
		}
		b.ReportMetric(float64(peak)/(1<<20)/pageMB, "peak-heap-MB/page-MB")
	})
	for _, charset := range []string{"utf-8", "windows-1252"} {
		raw := ingest.RawArticle{SchemaVersion: ingest.RawSchemaVersion, ID: "big-1", Feed: "harbour", URL: "https://harbour.example/pier",
			Status: 200, Header: map[string][]string{"Content-Type": {"text/html; charset=" + charset}}, Body: page,
			FetchedAt: time.Date(2026, 4, 2, 6, 0, 0, 0, time.UTC)}
		for _, enc := range benchEncodings {
			b.Run(charset+"/"+enc.name, func(b *testing.B) {
				w := NewWorker(&recorder{})
				var peak, alloc uint64
				var ms0, ms1 runtime.MemStats
				for b.Loop() {
					b.StopTimer()
					data := enc.encode(raw)
					b.StartTimer()
					p := heapPeak(func() {
						runtime.ReadMemStats(&ms0)
						if err := w.Handle(context.Background(), data); err != nil {
							b.Fatal(err)
						}
						runtime.ReadMemStats(&ms1)
						// The consume loop holds the message until it
						// acks it.
						runtime.KeepAlive(data)
					})
					peak = max(peak, p)
					alloc += ms1.TotalAlloc - ms0.TotalAlloc
				}
				b.ReportMetric(float64(peak)/(1<<20)/pageMB, "peak-heap-MB/page-MB")
				b.ReportMetric(float64(alloc)/float64(b.N)/(1<<20)/pageMB, "alloc-MB/page-MB")
			})
		}
	}
}

// benchEncodings are the news.raw payload schemas the benchmarks compare:
// schema 1 (JSON, body in base64) as old streams hold it, and the current.
var benchEncodings = []struct {
	name   string
	encode func(ingest.RawArticle) []byte
}{
	{"schema1", func(r ingest.RawArticle) []byte { r.SchemaVersion = 1; return mustJSON(r) }},
	{"schema2", func(r ingest.RawArticle) []byte {
		data, err := ingest.EncodeRaw(r)
		if err != nil {
			panic(err)
		}
		return data
	}},
}
