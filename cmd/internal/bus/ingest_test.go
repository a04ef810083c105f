package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/ingest"
)

// checkFor polls check until it returns nil, and fails the test with its
// last error if that takes longer than timeout.
// feedSite serves feeds /f<N>.xml of three items each, their pages, and
// /hang.xml, a feed whose one page never answers. It records when each feed
// was fetched.
type feedSite struct {
	srv       *httptest.Server
	pageDelay time.Duration

	mu    sync.Mutex
	times map[string][]time.Time
	hangs int
}

func newFeedSite(t *testing.T, items int, pageDelay time.Duration) *feedSite {
	s := &feedSite{times: map[string][]time.Time{}, pageDelay: pageDelay}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, ".xml"):
			s.mu.Lock()
			s.times[r.URL.Path] = append(s.times[r.URL.Path], time.Now())
			s.mu.Unlock()
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Quay %s</title>`, r.URL.Path)
			n := items
			if r.URL.Path == "/hang.xml" {
				n = 1
			}
			for i := range n {
				fmt.Fprintf(w, "<item><title>Ferry %d</title><link>http://%s/page%s/%d</link><guid>%s-%d</guid></item>", i, r.Host, r.URL.Path, i, r.URL.Path, i)
			}
			fmt.Fprint(w, "</channel></rss>")
		case strings.HasPrefix(r.URL.Path, "/page/hang.xml"):
			s.mu.Lock()
			s.hangs++
			s.mu.Unlock()
			<-r.Context().Done()
		default:
			time.Sleep(s.pageDelay)
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<html><body><p>The ferry %s ran late again.</p></body></html>", r.URL.Path)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *feedSite) fetches(path string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.times[path])
}

func (s *feedSite) feeds(t *testing.T, paths ...string) []ingest.Feed {
	var out []ingest.Feed
	for _, p := range paths {
		f, err := ingest.NewFeed(s.srv.URL+p, "")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

// TestFeedClaimsHandOver runs two pollers, on their own connections, over
// one in-process NATS. No feed is fetched twice in one interval. The first
// is then killed (its connection closed mid-round, as kill -9 would) while
// it fetches a page that never answers: the second takes its feeds within
// seconds, as soon as the dead one's short claim lapses.
func TestFeedClaimsHandOver(t *testing.T) {
	const interval, ttl = 2 * time.Second, 2 * time.Second
	site := newFeedSite(t, 3, 0)
	paths := []string{"/hang.xml", "/f1.xml", "/f2.xml", "/f3.xml", "/f4.xml"}
	feeds := site.feeds(t, paths...)
	srv := runServer(t)
	type replica struct {
		nc     *nats.Conn
		p      *ingest.Poller
		cancel context.CancelFunc
		done   chan struct{}
	}
	start := func(name string) *replica {
		nc, err := nats.Connect(srv.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		p, err := ingest.NewPoller(ingest.PollerConfig{
			Feeds:      feeds,
			Client:     ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: true}),
			Publisher:  &countingPublisher{ids: map[string]int{}},
			State:      NewFeedStateKV(feedKV(t, js, FeedStateBucket())),
			Seen:       NewSeenKV(feedKV(t, js, SeenBucket())),
			Interval:   interval,
			Jitter:     -1,
			ClaimTTL:   ttl,
			BusTimeout: time.Second,
			ReplicaID:  name,
			Logger:     testLogger(t).With("replica", name),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &replica{nc: nc, p: p, cancel: cancel, done: make(chan struct{})}
		go func() { p.Run(ctx); close(r.done) }()
		t.Cleanup(func() { cancel(); <-r.done })
		return r
	}
	a := start("replica-a")
	checkFor(t, 10*time.Second, func() error {
		site.mu.Lock()
		hangs := site.hangs
		site.mu.Unlock()
		if hangs == 0 {
			return fmt.Errorf("replica a has not asked for the page that hangs")
		}
		return nil
	})
	start("replica-b")
	checkFor(t, 30*time.Second, func() error {
		for _, p := range paths[1:] {
			if n := len(site.fetches(p)); n < 4 {
				return fmt.Errorf("%s fetched %d times", p, n)
			}
		}
		return nil
	})
	if n := len(site.fetches("/hang.xml")); n != 1 {
		t.Fatalf("the feed replica a is polling, renewing its claim, was fetched %d times", n)
	}
	// kill -9: the connection goes, nothing is released.
	a.nc.Close()
	killed := time.Now()
	a.cancel()
	<-a.done
	checkFor(t, 15*time.Second, func() error {
		if n := len(site.fetches("/hang.xml")); n < 2 {
			return fmt.Errorf("the dead replica's feed is not taken over")
		}
		return nil
	})
	took := site.fetches("/hang.xml")[1].Sub(killed)
	t.Logf("feed taken over %s after its poller died (claim TTL %s)", took, ttl)
	if took > 2*ttl+time.Second {
		t.Errorf("feed taken over %s after its poller died; its claim lasts %s", took, ttl)
	}
	for _, p := range paths {
		ts := site.fetches(p)
		for i := 1; i < len(ts); i++ {
			if d := ts[i].Sub(ts[i-1]); d < interval-10*time.Millisecond && p != "/hang.xml" {
				t.Errorf("%s fetched twice within %s: %s apart", p, interval, d)
			}
		}
	}
}

// TestFeedState304WritesOnce: at 304 a poll writes the feed's state once
// (the next due time, with the claim kept for the next round), not twice.
func TestFeedState304WritesOnce(t *testing.T) {
	site := newFeedSite(t, 2, 0)
	js := feedStateJS(t, 1)[0]
	kv := feedKV(t, js, FeedStateBucket())
	feeds := site.feeds(t, "/f1.xml")
	var mu sync.Mutex
	now := time.Now()
	p, err := ingest.NewPoller(ingest.PollerConfig{
		Feeds:     feeds,
		Client:    ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: true}),
		Publisher: &countingPublisher{ids: map[string]int{}},
		State:     NewFeedStateKV(kv),
		Seen:      NewSeenKV(feedKV(t, js, SeenBucket())),
		Interval:  time.Hour,
		Jitter:    -1,
		Logger:    testLogger(t),
		Now:       func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	revision := func() uint64 {
		e, err := kv.Get(t.Context(), feeds[0].Token)
		if err != nil {
			t.Fatal(err)
		}
		return e.Revision()
	}
	p.PollDue(t.Context())
	before := revision()
	const polls = 5
	for range polls {
		mu.Lock()
		now = now.Add(time.Hour)
		mu.Unlock()
		p.PollDue(t.Context())
	}
	if st := p.Stats(); st.FeedsNotModified != polls {
		t.Fatalf("%d polls answered 304, want %d", st.FeedsNotModified, polls)
	}
	if writes := revision() - before; writes != polls {
		t.Errorf("%d polls at 304 wrote the feed state %d times, want %d", polls, writes, polls)
	}
}

// busPublisher publishes raw articles as newsflow does: on news.raw.<feed>
// with the item id as Nats-Msg-Id.
type busPublisher struct {
	b *Bus
	n atomic.Int64
}

func (p *busPublisher) PublishRaw(ctx context.Context, a ingest.RawArticle) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := p.b.Publish(ctx, RawSubject(a.Feed), a.ID, data); err != nil {
		return err
	}
	p.n.Add(1)
	return nil
}

// TestIngestResumesAfterBusRestart stops the NATS server for 3 s in the
// middle of a feed's round and starts it again on the same port with the
// same store. Ingest resumes within seconds (the interval is an hour), the
// failed round is logged with its feed, and every item is in the stream
// exactly once.
func TestIngestResumesAfterBusRestart(t *testing.T) {
	const items = 20
	site := newFeedSite(t, items, 100*time.Millisecond)
	dir := t.TempDir()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true}
	startServer := func() *server.Server {
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats server did not start")
		}
		return s
	}
	srv := startServer()
	opts.Port = srv.Addr().(*net.TCPAddr).Port
	defer func() { srv.Shutdown() }()
	b := connectURL(t, srv.ClientURL())
	state, seen, err := b.FeedStores(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pub := &busPublisher{b: b}
	logs := &syncBuffer{}
	feeds := site.feeds(t, "/f1.xml")
	p, err := ingest.NewPoller(ingest.PollerConfig{
		Feeds:      feeds,
		Client:     ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: true}),
		Publisher:  pub,
		State:      state,
		Seen:       seen,
		Interval:   time.Hour,
		PerHost:    1,
		BusTimeout: 2 * time.Second,
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	checkFor(t, 20*time.Second, func() error {
		if n := pub.n.Load(); n < 5 {
			return fmt.Errorf("%d published", n)
		}
		return nil
	})
	srv.Shutdown()
	srv.WaitForShutdown()
	time.Sleep(3 * time.Second) // the outage
	srv = startServer()
	restarted := time.Now()

	var stored uint64
	checkFor(t, 30*time.Second, func() error {
		stored = streamMsgs(t, b, StreamRaw)
		if stored < items {
			return fmt.Errorf("%d of %d items in %s", stored, items, StreamRaw)
		}
		st, _, err := state.LoadFeedState(t.Context(), feeds[0].Token)
		if err != nil || st.ErrorStreak != 0 || st.LastSuccess.IsZero() {
			return fmt.Errorf("feed state %+v, %v: no successful round yet", st, err)
		}
		return nil
	})
	t.Logf("all items stored %s after the server came back", time.Since(restarted))
	if stored != items {
		t.Errorf("%d messages in %s for %d items", stored, StreamRaw, items)
	}
	s, err := b.js.Stream(t.Context(), StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for seq := uint64(1); seq <= stored; seq++ {
		m, err := s.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatal(err)
		}
		ids[m.Header.Get(jetstream.MsgIDHeader)]++
	}
	if len(ids) != items {
		t.Errorf("%d distinct items in %s, want %d: %v", len(ids), StreamRaw, items, ids)
	}
	if l := logs.String(); !strings.Contains(l, "feed round failed") || !strings.Contains(l, feeds[0].URL) {
		t.Errorf("the failed round was not logged with its feed:\n%s", l)
	}
}
