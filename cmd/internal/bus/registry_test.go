package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/newsflow/newsflow/ingest"
)

func mustFeed(t *testing.T, url, title string) ingest.Feed {
	t.Helper()
	f, err := ingest.NewFeed(url, title)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// watchLog records what a WatchFeeds reports, by token.
type watchLog struct {
	mu     sync.Mutex
	active map[string]bool
	urls   map[string]string
}

func (w *watchLog) update(f ingest.Feed, active bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.active[f.Token] = active
	if f.URL != "" {
		w.urls[f.Token] = f.URL
	}
}

func (w *watchLog) is(token string, active, known bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	a, ok := w.active[token]
	return ok == known && a == active
}

func TestFeedRegistry(t *testing.T) {
	srv := runServer(t)
	ctx := t.Context()
	// Two processes: the one serving the API, and a fetcher watching.
	api, err := connectURL(t, srv.ClientURL()).FeedRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fetcher, err := connectURL(t, srv.ClientURL()).FeedRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gazette := mustFeed(t, "https://gazette.example.org/rss", "Gazette")
	courier := mustFeed(t, "https://courier.example.org/atom", "Courier")
	lantern := mustFeed(t, "https://lantern.example.org/feed.json", "")

	if n, err := api.Seed(ctx, []ingest.Feed{gazette, courier}); err != nil || n != 2 {
		t.Fatalf("seed: %d added, %v", n, err)
	}
	w := &watchLog{active: map[string]bool{}, urls: map[string]string{}}
	done := make(chan error, 1)
	wctx, stop := context.WithCancel(t.Context())
	go func() { done <- fetcher.WatchFeeds(wctx, w.update) }()
	eventually(t, "the watch reports the seeded feeds", func() bool {
		return w.is(gazette.Token, true, true) && w.is(courier.Token, true, true)
	})

	// A second seed with one more feed only adds that one.
	if n, err := api.Seed(ctx, []ingest.Feed{gazette, lantern}); err != nil || n != 1 {
		t.Fatalf("second seed: %d added, %v", n, err)
	}
	if _, err := api.AddFeed(ctx, gazette); !errors.Is(err, ingest.ErrFeedExists) {
		t.Errorf("adding a feed twice: %v, want ErrFeedExists", err)
	}
	eventually(t, "the watch reports the added feed", func() bool { return w.is(lantern.Token, true, true) })

	rec, err := api.ChangeFeed(ctx, courier.Token, ingest.FeedPause)
	if err != nil || !rec.Paused || rec.URL != courier.URL {
		t.Fatalf("pause: %+v %v", rec, err)
	}
	eventually(t, "the watch reports the pause", func() bool { return w.is(courier.Token, false, true) })
	if _, err := api.ChangeFeed(ctx, courier.Token, ingest.FeedResume); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the watch reports the resume", func() bool { return w.is(courier.Token, true, true) })
	if _, err := api.ChangeFeed(ctx, gazette.Token, ingest.FeedRemove); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the watch reports the removal", func() bool { return w.is(gazette.Token, false, true) })

	for _, op := range []ingest.FeedOp{ingest.FeedRemove, ingest.FeedPause, ingest.FeedResume} {
		if _, err := api.ChangeFeed(ctx, gazette.Token, op); !errors.Is(err, ingest.ErrFeedNotFound) {
			t.Errorf("%v of a removed feed: %v, want ErrFeedNotFound", op, err)
		}
	}
	if _, err := api.Feed(ctx, "not.a.token"); !errors.Is(err, ingest.ErrFeedNotFound) {
		t.Errorf("a token that cannot be a key: %v, want ErrFeedNotFound", err)
	}

	// The seeding file does not bring back a feed removed since.
	if _, err := api.ChangeFeed(ctx, courier.Token, ingest.FeedPause); err != nil {
		t.Fatal(err)
	}
	if n, err := api.Seed(ctx, []ingest.Feed{courier}); err != nil || n != 0 {
		t.Fatalf("seed of a registered feed: %d added, %v", n, err)
	}
	feeds, err := fetcher.Feeds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range feeds {
		got = append(got, f.URL)
		if f.Added.IsZero() || f.Token != ingest.FeedToken(f.URL) {
			t.Errorf("record %+v: no time added, or a token that is not its URL's", f)
		}
		if f.URL == courier.URL && (!f.Paused || f.Title != "Courier") {
			t.Errorf("courier after a second seed: %+v, want it paused with its title", f)
		}
	}
	slices.Sort(got)
	if want := []string{courier.URL, lantern.URL}; !slices.Equal(got, want) {
		t.Errorf("feeds = %v, want %v", got, want)
	}
	// Added again after removal, it is a feed like any other.
	if _, err := api.AddFeed(ctx, gazette); err != nil {
		t.Fatalf("adding a removed feed again: %v", err)
	}
	eventually(t, "the watch reports the feed added again", func() bool { return w.is(gazette.Token, true, true) })

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchFeeds after ctx ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchFeeds did not return when its ctx ended")
	}
}

func TestFeedRegistryEmpty(t *testing.T) {
	srv := runServer(t)
	r, err := connectURL(t, srv.ClientURL()).FeedRegistry(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := r.Feeds(t.Context())
	if err != nil || len(feeds) != 0 {
		t.Fatalf("empty registry: %v %v", feeds, err)
	}
}

// TestPollerFollowsRegistry: a running Poller polls a feed added to the
// registry, and stops polling one paused or removed, without a restart.
func TestPollerFollowsRegistry(t *testing.T) {
	const interval = time.Second
	site := newFeedSite(t, 2, 0)
	feeds := site.feeds(t, "/f1.xml", "/f2.xml")
	srv := runServer(t)
	b := connectURL(t, srv.ClientURL())
	ctx := t.Context()
	reg, err := b.FeedRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Seed(ctx, feeds[:1]); err != nil {
		t.Fatal(err)
	}
	state, seen, err := b.FeedStores(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ingest.NewPoller(ingest.PollerConfig{
		Registry:  reg,
		Client:    ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: true}),
		Publisher: &countingPublisher{ids: map[string]int{}},
		State:     state,
		Seen:      seen,
		Interval:  interval,
		Jitter:    -1,
		Logger:    testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(rctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	fetched := func(path string, n int) func() bool {
		return func() bool { return len(site.fetches(path)) >= n }
	}
	eventually(t, "the seeded feed polled twice", fetched("/f1.xml", 2))
	if n := len(site.fetches("/f2.xml")); n != 0 {
		t.Fatalf("a feed not registered was fetched %d times", n)
	}
	// Added while running.
	if _, err := reg.AddFeed(ctx, feeds[1]); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the added feed polled", fetched("/f2.xml", 1))

	// Paused: a round already under way may finish, no other starts while
	// the other feed is polled three times more.
	if _, err := reg.ChangeFeed(ctx, feeds[0].Token, ingest.FeedPause); err != nil {
		t.Fatal(err)
	}
	atPause := len(site.fetches("/f1.xml"))
	eventually(t, "the other feed polled on", fetched("/f2.xml", len(site.fetches("/f2.xml"))+3))
	if n := len(site.fetches("/f1.xml")); n > atPause+1 {
		t.Errorf("paused feed fetched %d times after its pause", n-atPause)
	}
	// Resumed, and the other removed.
	if _, err := reg.ChangeFeed(ctx, feeds[0].Token, ingest.FeedResume); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ChangeFeed(ctx, feeds[1].Token, ingest.FeedRemove); err != nil {
		t.Fatal(err)
	}
	atRemove := len(site.fetches("/f2.xml"))
	eventually(t, "the resumed feed polled three times", fetched("/f1.xml", len(site.fetches("/f1.xml"))+3))
	if n := len(site.fetches("/f2.xml")); n > atRemove+1 {
		t.Errorf("removed feed fetched %d times after its removal", n-atRemove)
	}
}

// TestEachParkedError reads the subject and error of every parked message,
// the last one removed included.
func TestEachParkedError(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	ctx := t.Context()
	read := func() []string {
		var got []string
		if err := b.EachParkedError(ctx, func(subject, errText string) { got = append(got, FeedOfSubject(subject)+" "+errText) }); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); len(got) != 0 {
		t.Fatalf("empty stream: %q", got)
	}
	var want []string
	for i := range 300 {
		m := nats.NewMsg(parkedSubject(ConsumerProcess))
		m.Header.Set(HeaderSubject, RawSubject(fmt.Sprintf("feed-%d", i%3)))
		m.Header.Set(HeaderError, fmt.Sprintf("error %d", i))
		if _, err := b.js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("feed-%d error %d", i%3, i))
	}
	if got := read(); !slices.Equal(got, want) {
		t.Fatalf("read %d messages, want %d: first %q", len(got), len(want), got[:min(3, len(got))])
	}
	s, _ := b.js.Stream(ctx, StreamParked)
	if err := s.DeleteMsg(ctx, 300); err != nil {
		t.Fatal(err)
	}
	if got := read(); !slices.Equal(got, want[:299]) {
		t.Fatalf("after the last was removed: %d messages", len(got))
	}
}
