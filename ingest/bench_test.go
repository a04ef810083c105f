package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func BenchmarkReadFeedList(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("# a long list\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "https://paper%d.example.org/feeds/rss.xml?section=%d  # paper %d\n", i, i%7, i)
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		feeds, err := ReadFeedList(strings.NewReader(text))
		if err != nil || len(feeds) != 1000 {
			b.Fatal(len(feeds), err)
		}
	}
}

// benchSite serves one RSS feed of n items and a 40 KB page per item.
func benchSite(b *testing.B, n int) *httptest.Server {
	page := "<html><body><article>" + strings.Repeat("<p>The harbour wall held through the night, the keeper said.</p>", 600) + "</article></body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rss.xml" {
			w.Write([]byte(page))
			return
		}
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Bugle</title>`)
		for i := range n {
			fmt.Fprintf(&sb, "<item><title>Story %d</title><link>http://%s/story/%d</link><guid>bench-%d</guid>"+
				"<pubDate>Mon, 02 Mar 2026 07:05:00 +0100</pubDate><description>Short summary %d.</description></item>", i, r.Host, i, i, i)
		}
		sb.WriteString("</channel></rss>")
		w.Write([]byte(sb.String()))
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchPoller(b *testing.B, srv *httptest.Server, seen SeenStore, clock *fakeClock) *Poller {
	f, _ := NewFeed(srv.URL+"/rss.xml", "")
	p, err := NewPoller(PollerConfig{
		Feeds:     []Feed{f},
		Client:    NewClient(ClientOptions{AllowPrivateNetworks: true}),
		Publisher: &memPub{},
		State:     newMemState(),
		Seen:      seen,
		Interval:  time.Minute,
		Jitter:    -1,
		Logger:    discardLogger(),
		Now:       clock.Now,
	})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkPollNewItems polls a feed of 100 new items: fetch the feed, then
// 100 pages of 40 KB, publish 100 raw articles (in memory). Reports
// items/s.
func BenchmarkPollNewItems(b *testing.B) {
	const n = 100
	srv := benchSite(b, n)
	clock := &fakeClock{t: time.Now()}
	var items int64
	for b.Loop() {
		p := benchPoller(b, srv, newMemSeen(), clock)
		if err := p.PollDue(context.Background()); err != nil {
			b.Fatal(err)
		}
		if got := p.Stats().ItemsPublished; got != n {
			b.Fatalf("published %d, want %d", got, n)
		}
		items += n
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkPollAllSeen polls a feed of 100 items that were all published
// before (the steady state of a feed without validators).
func BenchmarkPollAllSeen(b *testing.B) {
	const n = 100
	srv := benchSite(b, n)
	clock := &fakeClock{t: time.Now()}
	seen := newMemSeen()
	p := benchPoller(b, srv, seen, clock)
	if err := p.PollDue(context.Background()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		clock.Advance(time.Hour)
		if err := p.PollDue(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	if st := p.Stats(); st.ItemsPublished != n || st.FeedErrors != 0 {
		b.Fatalf("stats %+v", st)
	}
}

// BenchmarkFirstPoll polls 1,000 feeds of 10 new items each for the first
// time (10,000 pages of 40 KB from 10 servers, a feed's pages on its own
// server), as a fresh fetcher does.
// It reports the peak of the Go heap in use while the poll runs (sampled
// every 5 ms) and the CPU time (user and system, whole process) per 1,000
// feeds per cycle.
func BenchmarkFirstPoll(b *testing.B) {
	const feeds, items = 1000, 10
	page := "<html><body><article>" + strings.Repeat("<p>The harbour wall held through the night, the keeper said.</p>", 600) + "</article></body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".xml") {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page))
			return
		}
		var sb strings.Builder
		sb.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Bugle</title>`)
		for i := range items {
			fmt.Fprintf(&sb, "<item><title>Story %d</title><link>http://%s%s/story/%d</link><guid>%s-%d</guid>"+
				"<description>%s</description></item>", i, r.Host, r.URL.Path, i, r.URL.Path, i, strings.Repeat("A short summary. ", 20))
		}
		sb.WriteString("</channel></rss>")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(sb.String()))
	}))
	b.Cleanup(srv.Close)
	srvs := []*httptest.Server{srv}
	for range 9 {
		s := httptest.NewServer(srv.Config.Handler)
		b.Cleanup(s.Close)
		srvs = append(srvs, s)
	}
	var fs []Feed
	for i := range feeds {
		f, _ := NewFeed(fmt.Sprintf("%s/f%d.xml", srvs[i%len(srvs)].URL, i), "")
		fs = append(fs, f)
	}
	var peak uint64
	var cpu time.Duration
	for b.Loop() {
		p, err := NewPoller(PollerConfig{
			Feeds:     fs,
			Client:    NewClient(ClientOptions{AllowPrivateNetworks: true}),
			Publisher: discardPub{},
			State:     newMemState(),
			Seen:      newMemSeen(),
			Interval:  time.Hour,
			Logger:    discardLogger(),
		})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := make(chan struct{})
		sampled := make(chan uint64)
		go func() {
			var m runtime.MemStats
			var top uint64
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&m)
				top = max(top, m.HeapInuse)
				select {
				case <-stop:
					sampled <- top
					return
				case <-t.C:
				}
			}
		}()
		before := cpuTime()
		if err := p.PollDue(context.Background()); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - before
		close(stop)
		peak = max(peak, <-sampled)
		if got := p.Stats().ItemsPublished; got != feeds*items {
			b.Fatalf("published %d, want %d", got, feeds*items)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N)*1000/feeds, "cpu-ms/1000feeds")
}

// discardPub is a Publisher that keeps nothing.
type discardPub struct{}

func (discardPub) PublishRaw(context.Context, RawArticle) error { return nil }

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
