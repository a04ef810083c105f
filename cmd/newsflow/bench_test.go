package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// BenchmarkPipeline runs the whole pipeline of `newsflow run` (ingest,
// process, store; embedded NATS, SQLite, default settings) on a folder of
// real pages (NEWSFLOW_BENCH_PAGES) served by a local feed server (with
// the memory limit `newsflow run` sets), and then
// extraction alone on the same pages and cores as the baseline. It reports:
//
//   - extract-pages/s: extraction alone, GOMAXPROCS goroutines;
//   - stored/s and e2e/extract: articles stored per second from the start of
//     the pipeline to the last commit, and its ratio to extraction alone
//     (counting the pages that make a record in both);
//   - cpu-ms/article: CPU time of the process (all stages, and the feed
//     server) per stored article;
//   - p50-ms, p95-ms: fetched-to-stored latency, from a record's FetchedAt
//     to the commit of the batch that stored it; p95-published-ms is the
//     part of it up to the record's publish (ingest and process), so that
//     the rest is the store's;
//   - peak-RSS-MB: the process's peak resident memory (measured after the
//     pipeline, before the baseline runs);
//   - disk-B/article: what the data folder holds on disk per stored article.
//
// All pages are in the feeds at once, so the latency includes the time a
// record waits behind the backlog; NEWSFLOW_BENCH_RATE=N serves at most N
// pages a second, which measures the latency of a pipeline that keeps up
// (the throughput figures are then the pace, not the pipeline's).
//
// NEWSFLOW_BENCH_CPUPROFILE writes a CPU profile of the pipeline run alone.
// Run it with -benchtime 1x: each iteration is a whole run on a new folder.
func BenchmarkPipeline(b *testing.B) {
	dir := os.Getenv("NEWSFLOW_BENCH_PAGES")
	if dir == "" {
		b.Skip("set NEWSFLOW_BENCH_PAGES to a folder of *.html pages")
	}
	pages, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil || len(pages) == 0 {
		b.Fatalf("no pages in %s: %v", dir, err)
	}
	defer debug.SetMemoryLimit(setDefaultMemoryLimit()) // as `newsflow run` does
	var (
		runs      []pipelineRun
		profiling = os.Getenv("NEWSFLOW_BENCH_CPUPROFILE")
	)
	for i := 0; b.Loop(); i++ {
		if profiling != "" && i == 0 {
			f, err := os.Create(profiling)
			if err != nil {
				b.Fatal(err)
			}
			pprof.StartCPUProfile(f)
			runs = append(runs, runPipelineOnce(b, dir, pages))
			pprof.StopCPUProfile()
			f.Close()
			continue
		}
		runs = append(runs, runPipelineOnce(b, dir, pages))
	}
	peak := peakRSS()
	extractRate := extractionRate(b, pages)
	var stored int
	var took, cpu time.Duration
	var lat, pub []time.Duration
	var disk int64
	for _, r := range runs {
		stored += r.stored
		took += r.took
		cpu += r.cpu
		lat = append(lat, r.latencies...)
		pub = append(pub, r.published...)
		disk += r.disk
	}
	slices.Sort(lat)
	slices.Sort(pub)
	rate := float64(stored) / took.Seconds()
	b.ReportMetric(extractRate, "extract-pages/s")
	b.ReportMetric(rate, "stored/s")
	b.ReportMetric(rate/extractRate, "e2e/extract")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(stored), "cpu-ms/article")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(pub[len(pub)*95/100].Microseconds())/1000, "p95-published-ms")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(disk)/float64(stored), "disk-B/article")
	b.ReportMetric(0, "ns/op")
}

// pipelineRun is what one run of the pipeline over the pages measured.
type pipelineRun struct {
	stored    int
	took, cpu time.Duration
	latencies []time.Duration
	published []time.Duration
	disk      int64
}

// timedStore records, for every article it upserts, how long after its
// fetch the batch was committed.
type timedStore struct {
	articleStore
	mu        sync.Mutex
	latencies []time.Duration
	last      time.Time
}

func (s *timedStore) Upsert(ctx context.Context, batch []process.Article) (store.UpsertStats, error) {
	st, err := s.articleStore.Upsert(ctx, batch)
	if err == nil {
		now := time.Now()
		s.mu.Lock()
		for _, a := range batch {
			s.latencies = append(s.latencies, now.Sub(a.FetchedAt))
		}
		s.last = now
		s.mu.Unlock()
	}
	return st, err
}

// timedPublisher records, for every record it publishes, how long after
// its fetch the publish was acknowledged.
type timedPublisher struct {
	process.Publisher
	mu        sync.Mutex
	latencies []time.Duration
}

func (p *timedPublisher) PublishArticle(ctx context.Context, a process.Article) error {
	err := p.Publisher.PublishArticle(ctx, a)
	if err == nil {
		d := time.Since(a.FetchedAt)
		p.mu.Lock()
		p.latencies = append(p.latencies, d)
		p.mu.Unlock()
	}
	return err
}

// benchFeeds is how many feeds share the pages, as a site's sections would.
const benchFeeds = 4

func runPipelineOnce(b *testing.B, dir string, pages []string) pipelineRun {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/feed/", func(w http.ResponseWriter, r *http.Request) {
		var feed int
		fmt.Sscanf(r.URL.Path, "/feed/%d.rss", &feed)
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>`)
		for i, p := range pages {
			if i%benchFeeds == feed {
				id := strings.TrimSuffix(filepath.Base(p), ".html")
				fmt.Fprintf(&sb, "<item><title>Page %s</title><link>%s/p/%s.html</link><guid>%s</guid></item>\n", id, srv.URL, id, id)
			}
		}
		sb.WriteString("</channel></rss>")
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, sb.String())
	})
	files := http.StripPrefix("/p/", http.FileServer(http.Dir(dir)))
	pace := newPacer(b)
	mux.HandleFunc("/p/", func(w http.ResponseWriter, r *http.Request) {
		pace.wait()
		files.ServeHTTP(w, r)
	})

	work := b.TempDir()
	var list strings.Builder
	for f := range benchFeeds {
		fmt.Fprintf(&list, "%s/feed/%d.rss\n", srv.URL, f)
	}
	feeds := filepath.Join(work, "feeds.txt")
	os.WriteFile(feeds, []byte(list.String()), 0o644)
	data := filepath.Join(work, "data")
	cfg, err := parseConfig("run", []string{"--feeds", feeds, "--data", data, "--allow-private-networks"},
		[]string{"ingest", "process", "store"}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	cpu0 := cpuTime()
	start := time.Now()
	p, err := newPipeline(b.Context(), cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	ts := &timedStore{articleStore: p.db}
	p.db = ts
	tp := &timedPublisher{Publisher: articlePublisher{p.bus}}
	p.worker = process.NewWorker(tp)
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan error, 1)
	go func() { done <- p.run(ctx) }()

	// Done when every page was published, and both consumers are idle.
	checkFor(b, 10*time.Minute, func() error {
		if n := p.poller.Stats().ItemsPublished; n < int64(len(pages)) {
			return fmt.Errorf("%d of %d pages published", n, len(pages))
		}
		for _, c := range [][2]string{{bus.StreamRaw, bus.ConsumerProcess}, {bus.StreamArticles, bus.ConsumerStore}} {
			if !consumerIdle(b, p.bus, c[0], c[1]) {
				return fmt.Errorf("consumer %s still busy", c[1])
			}
		}
		return nil
	})
	cpu := cpuTime() - cpu0
	cancel()
	if err := <-done; err != nil {
		b.Errorf("pipeline ended with %v", err)
	}
	p.close()

	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.latencies) == 0 {
		b.Fatal("nothing stored")
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return pipelineRun{stored: len(ts.latencies), took: ts.last.Sub(start), cpu: cpu, latencies: ts.latencies,
		published: tp.latencies, disk: diskUse(b, data)}
}

// pacer spaces the pages served NEWSFLOW_BENCH_RATE a second apart; with
// no rate set it does not wait.
type pacer struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newPacer(b *testing.B) *pacer {
	p := &pacer{}
	if v := os.Getenv("NEWSFLOW_BENCH_RATE"); v != "" {
		var rate float64
		if _, err := fmt.Sscan(v, &rate); err != nil || rate <= 0 {
			b.Fatalf("NEWSFLOW_BENCH_RATE: %q is not a positive number of pages a second", v)
		}
		p.every = time.Duration(float64(time.Second) / rate)
	}
	return p
}

func (p *pacer) wait() {
	if p.every == 0 {
		return
	}
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.every)
	p.mu.Unlock()
	time.Sleep(time.Until(at))
}

// extractionRate is how many pages per second that make a record
// extraction alone gets through, on GOMAXPROCS goroutines.
func extractionRate(b *testing.B, pages []string) float64 {
	bodies := make([][]byte, len(pages))
	for i, p := range pages {
		var err error
		if bodies[i], err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
	}
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(bodies)); i = next.Add(1) - 1 {
				if _, err := process.Extract(process.Page{URL: "https://example.com/news/" + filepath.Base(pages[i]), Body: bodies[i]}); err == nil {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident memory in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024
}

// diskUse is what the files under dir take on disk, as du counts it.
func diskUse(b *testing.B, dir string) int64 {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return total
}
