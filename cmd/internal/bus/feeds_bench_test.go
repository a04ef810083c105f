package bus

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/ingest"
)

// BenchmarkTenThousandFeeds runs one Poller over 10,000 small feeds (two
// items each, a short page per item, spread over 20 hosts) as `newsflow
// run` does: an embedded NATS server, the feed-state and seen buckets, and
// raw articles published to NEWS_RAW. The first cycle publishes every item;
// the steady cycles that follow are answered 304 by every feed. Each cycle
// is one PollDue with the clock moved on by the interval (no jitter), so
// every feed is due at once, and as punctually as a Poller that keeps up.
//
// It reports the peak Go heap in use (sampled every 10 ms, the embedded
// server's included) and the wall time of the first cycle and of a steady
// one, and the CPU time (user and system, whole process: the feed servers
// and the NATS server too) per 1,000 feeds per steady cycle. Run it once:
//
//	go test -run '^$' -bench TenThousandFeeds -benchtime 1x ./cmd/internal/bus
func BenchmarkTenThousandFeeds(b *testing.B) {
	const feeds, items, hosts, steady = 10_000, 2, 20, 3
	const interval = time.Hour
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".xml") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, "<html><body><article><p>The night ferry %s left the quay on time.</p></article></body></html>", r.URL.Path)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Quay %s</title>`, r.URL.Path)
		for i := range items {
			fmt.Fprintf(w, "<item><title>Ferry %d</title><link>http://%s/page%s/%d</link><guid>%s-%d</guid>"+
				"<description>A short note on the crossing.</description></item>", i, r.Host, r.URL.Path, i, r.URL.Path, i)
		}
		fmt.Fprint(w, "</channel></rss>")
	})
	var fs []ingest.Feed
	var urls []string
	for range hosts {
		s := httptest.NewServer(handler)
		b.Cleanup(s.Close)
		urls = append(urls, s.URL)
	}
	for i := range feeds {
		f, err := ingest.NewFeed(fmt.Sprintf("%s/f%d.xml", urls[i%hosts], i), "")
		if err != nil {
			b.Fatal(err)
		}
		fs = append(fs, f)
	}
	var firstPeak, steadyPeak uint64
	var firstWall, steadyWall, steadyCPU time.Duration
	for b.Loop() {
		bus, err := Connect(b.Context(), Options{DataDir: b.TempDir(), SweepEvery: -1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		state, seen, err := bus.FeedStores(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		clock := &benchClock{t: time.Now()}
		pub := &busPublisher{b: bus}
		p, err := ingest.NewPoller(ingest.PollerConfig{
			Feeds:     fs,
			Client:    ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: true}),
			Publisher: pub,
			State:     state,
			Seen:      seen,
			Interval:  interval,
			Jitter:    -1,
			Logger:    slog.New(slog.DiscardHandler),
			Now:       clock.Now,
		})
		if err != nil {
			b.Fatal(err)
		}
		cycle := func() (peak uint64, wall, cpu time.Duration) {
			runtime.GC()
			stop := sampleHeap()
			start, before := time.Now(), processCPU()
			if err := p.PollDue(b.Context()); err != nil {
				b.Fatal(err)
			}
			return stop(), time.Since(start), processCPU() - before
		}
		peak, wall, _ := cycle()
		firstPeak, firstWall = max(firstPeak, peak), firstWall+wall
		if st := p.Stats(); pub.n.Load() != feeds*items || st.FeedErrors != 0 {
			b.Fatalf("first cycle published %d, want %d; stats %+v", pub.n.Load(), feeds*items, st)
		}
		for i := range steady {
			clock.Advance(interval)
			peak, wall, cpu := cycle()
			steadyPeak, steadyWall, steadyCPU = max(steadyPeak, peak), steadyWall+wall, steadyCPU+cpu
			if st := p.Stats(); st.FeedsNotModified != int64((i+1)*feeds) || st.FeedErrors != 0 {
				b.Fatalf("steady cycle %d: %d answers 304, want %d; stats %+v", i+1, st.FeedsNotModified, (i+1)*feeds, st)
			}
		}
		bus.Close()
	}
	n := float64(b.N)
	b.ReportMetric(float64(firstPeak)/(1<<20), "first-peak-heap-MB")
	b.ReportMetric(firstWall.Seconds()/n, "first-cycle-s")
	b.ReportMetric(float64(steadyPeak)/(1<<20), "steady-peak-heap-MB")
	b.ReportMetric(steadyWall.Seconds()/n/steady, "steady-cycle-s")
	b.ReportMetric(steadyCPU.Seconds()/n/steady*1000/feeds, "cpu-s/1000feeds")
}

// sampleHeap samples the Go heap in use every 10 ms until the function it
// returns is called, which returns the highest sample.
func sampleHeap() func() uint64 {
	stop, top := make(chan struct{}), make(chan uint64)
	go func() {
		var m runtime.MemStats
		var peak uint64
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				top <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-top }
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchClock is a clock the benchmark moves by hand.
type benchClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *benchClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *benchClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
