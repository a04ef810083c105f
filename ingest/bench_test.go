package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
