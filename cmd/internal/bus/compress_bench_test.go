package bus

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/ingest"
)

// BenchmarkRawDisk stores real pages (NEWSFLOW_BENCH_PAGES, a folder of
// .html files) as raw-article messages in NEWS_RAW and in a copy of it
// without compression, and reports the disk bytes per page of each: what
// S2 saves on the embedded server. Pages too large for one message go to
// NEWS_BODIES in both cases and are not counted.
func BenchmarkRawDisk(b *testing.B) {
	dir := os.Getenv("NEWSFLOW_BENCH_PAGES")
	if dir == "" {
		b.Skip("NEWSFLOW_BENCH_PAGES is not set")
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "*.html"))
	if len(pages) == 0 {
		b.Fatalf("no .html pages in %s", dir)
	}
	data := b.TempDir()
	bus, err := Connect(b.Context(), Options{DataDir: data, SweepEvery: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()
	if !bus.compress {
		b.Skip("the embedded server stores no compressed streams")
	}
	plain := streamConfigOf(b, bus, StreamRaw)
	plain.Name, plain.Subjects, plain.Compression = "BENCH_PLAIN", []string{"bench.plain.>"}, jetstream.NoCompression
	if _, err := bus.js.CreateStream(b.Context(), plain); err != nil {
		b.Fatal(err)
	}
	var logical int
	for i := 0; i < b.N; i++ {
		for j, p := range pages {
			body, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			msg, _ := json.Marshal(ingest.RawArticle{SchemaVersion: 1, ID: fmt.Sprintf("%d-%d", i, j), Feed: "bench", URL: "https://example.org/" + filepath.Base(p), Status: 200, Body: body})
			logical += len(msg)
			for _, subject := range []string{RawSubject("bench"), "bench.plain.x"} {
				if err := bus.Publish(b.Context(), subject, "", msg); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	n := float64(b.N * len(pages))
	streams := filepath.Join(data, "jetstream", "jetstream", "$G", "streams")
	s2, none := dirSize(b, filepath.Join(streams, StreamRaw)), dirSize(b, filepath.Join(streams, "BENCH_PLAIN"))
	b.ReportMetric(float64(logical)/n, "msg-bytes/page")
	b.ReportMetric(float64(none)/n, "disk-bytes/page-plain")
	b.ReportMetric(float64(s2)/n, "disk-bytes/page-s2")
	b.ReportMetric(float64(s2)/float64(none), "s2/plain")
}

func streamConfigOf(b *testing.B, bus *Bus, name string) jetstream.StreamConfig {
	s, err := bus.js.Stream(b.Context(), name)
	if err != nil {
		b.Fatal(err)
	}
	return s.CachedInfo().Config
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
