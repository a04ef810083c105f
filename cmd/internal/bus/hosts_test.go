package bus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/ingest/fault"
)

// TestHostSpacingSharedByReplicas runs two ingest pollers, each on its own
// NATS connection, whose feeds and pages are on one host. The spacing and
// the one request in flight per host hold at the server across both.
func TestHostSpacingSharedByReplicas(t *testing.T) {
	const spacing = 100 * time.Millisecond
	var (
		mu       sync.Mutex
		arrivals []time.Time
		paths    []string
		inFlight int
		most     int
	)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		paths = append(paths, r.URL.Path)
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		defer func() {
			mu.Lock()
			inFlight--
			mu.Unlock()
		}()
		switch {
		case r.URL.Path == "/robots.txt":
			http.NotFound(w, r)
		case strings.HasSuffix(r.URL.Path, ".xml"):
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Dock %s</title>`, r.URL.Path)
			for i := range 2 {
				fmt.Fprintf(w, "<item><title>Crane %d</title><link>http://%s/page%s/%d</link><guid>%s-%d</guid></item>", i, r.Host, r.URL.Path, i, r.URL.Path, i)
			}
			fmt.Fprint(w, "</channel></rss>")
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<html><body><p>The crane %s was idle all week.</p></body></html>", r.URL.Path)
		}
	}))
	t.Cleanup(site.Close)

	jss := feedStateJS(t, 2)
	type replica struct {
		p   *ingest.Poller
		pub *countingPublisher
	}
	var reps []replica
	for i, js := range jss {
		var feeds []ingest.Feed
		for j := range 3 {
			f, err := ingest.NewFeed(fmt.Sprintf("%s/r%d-f%d.xml", site.URL, i, j), "")
			if err != nil {
				t.Fatal(err)
			}
			feeds = append(feeds, f)
		}
		pub := &countingPublisher{ids: map[string]int{}}
		p, err := ingest.NewPoller(ingest.PollerConfig{
			Feeds:       feeds,
			Client:      ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: true}),
			Publisher:   pub,
			State:       NewFeedStateKV(feedKV(t, js, FeedStateBucket())),
			Seen:        NewSeenKV(feedKV(t, js, SeenBucket())),
			Hosts:       NewHostLeasesKV(feedKV(t, js, HostBucket())),
			PerHost:     1,
			HostSpacing: spacing,
			Interval:    time.Hour,
			Jitter:      -1,
			ReplicaID:   fmt.Sprintf("replica-%d", i),
			Logger:      testLogger(t).With("replica", i),
		})
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, replica{p, pub})
	}
	var wg sync.WaitGroup
	for _, r := range reps {
		wg.Go(func() {
			if err := r.p.PollDue(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	for i, r := range reps {
		if s := r.p.Stats(); s.ItemsPublished != 6 || s.FeedsPolled != 3 {
			t.Errorf("replica %d: %d feeds polled, %d items published; want 3 and 6", i, s.FeedsPolled, s.ItemsPublished)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// 2 robots.txt, 6 feeds, 12 pages.
	if len(arrivals) != 20 {
		t.Errorf("%d requests at the server, want 20: %v", len(arrivals), paths)
	}
	if most != 1 {
		t.Errorf("%d requests in flight at once to the host, want at most 1", most)
	}
	// The two replicas' clocks are this machine's: a request may come only
	// a clock reading's rounding early.
	const tolerance = time.Millisecond
	for i := 1; i < len(arrivals); i++ {
		if gap := arrivals[i].Sub(arrivals[i-1]); gap < spacing-tolerance {
			t.Errorf("%s came %s after %s, want at least %s", paths[i], gap, paths[i-1], spacing)
		}
	}
}

func TestHostLeasesKV(t *testing.T) {
	jss := feedStateJS(t, 3)
	a := NewHostLeasesKV(feedKV(t, jss[0], HostBucket()))
	b := NewHostLeasesKV(feedKV(t, jss[1], HostBucket()))
	dying := NewHostLeasesKV(feedKV(t, jss[2], HostBucket()))
	ctx := t.Context()
	const host = "quay.example.org:8080"
	lim := ingest.HostLimit{MaxInFlight: 1, Hold: time.Second}

	// A slot is renewed while its request runs, however long.
	if _, err := dying.Acquire(ctx, host, lim); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 3*lim.Hold)
	_, err := b.Acquire(short, host, lim)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second request while the only slot is held and renewed: %v, want to wait", err)
	}
	// Its fetcher dies (its connection goes): the slot lapses after Hold.
	jss[2].Conn().Close()
	died := time.Now()
	release, err := b.Acquire(ctx, host, lim)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slot of a dead fetcher free %s after", time.Since(died).Round(time.Millisecond))
	release()
	// Given back, it is free at once.
	release, err = a.Acquire(ctx, host, lim)
	if err != nil {
		t.Fatal(err)
	}
	release()

	// One replica's 429 holds the others back.
	if err := a.Defer(ctx, host, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err = b.Acquire(ctx, host, lim)
	var hd *ingest.HostDeferredError
	if !errors.As(err, &hd) || hd.Wait < 59*time.Minute || hd.Host != host {
		t.Errorf("request to a deferred host: %v, want a HostDeferredError of about an hour", err)
	}
	if release, err := b.Acquire(ctx, "ferry.example.org", lim); err != nil {
		t.Errorf("another host held back: %v", err)
	} else {
		release()
	}
}

func TestHostKey(t *testing.T) {
	kv := feedKV(t, feedStateJS(t, 1)[0], HostBucket())
	keys := map[string]bool{}
	for host, want := range map[string]string{
		"News.Example.COM":     "news.example.com",
		"127.0.0.1:8080":       "127.0.0.1=3A8080",
		"[::1]:443":            "=5B=3A=3A1=5D=3A443",
		"example.org.":         "example.org=2E",
		"a..b":                 "a=2E=2Eb",
		"under_score.example":  "under=5Fscore.example",
		"":                     "=",
		"xn--hrbour-bua.test":  "xn--hrbour-bua.test",
		"host with space/path": "host=20with=20space=2Fpath",
	} {
		got := hostKey(host)
		if got != want {
			t.Errorf("hostKey(%q) = %q, want %q", host, got, want)
		}
		if keys[got] {
			t.Errorf("hostKey(%q) = %q repeats another host's key", host, got)
		}
		keys[got] = true
		if _, err := kv.Put(t.Context(), got, []byte("{}")); err != nil {
			t.Errorf("key %q of %q is not a valid key: %v", got, host, err)
		}
	}
}

// TestHostLeaseUnansweredWrite: a write to the host bucket whose
// acknowledgement never comes (as when the server dies after the request
// left) fails within seconds as a temporary error, however long the
// caller's deadline. It used to hold a feed's round, and with it every
// page of the feed, until the round's deadline ten minutes later.
func TestHostLeaseUnansweredWrite(t *testing.T) {
	js := feedStateJS(t, 1)[0]
	kv := feedKV(t, js, HostBucket())
	// A stream with NoAck stores what is published to it and answers
	// nothing: the publish of the slot waits for an ack that never comes.
	stream, err := js.Stream(t.Context(), "KV_"+HostBucket().Bucket)
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.CachedInfo().Config
	cfg.NoAck = true
	if _, err := js.UpdateStream(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute) // a round's deadline
	defer cancel()
	start := time.Now()
	release, err := NewHostLeasesKV(kv).Acquire(ctx, "news.example", ingest.HostLimit{MaxInFlight: 1, Hold: 5 * time.Second})
	took := time.Since(start)
	if err == nil {
		release()
		t.Fatal("Acquire succeeded with a slot write that was never acknowledged")
	}
	if !fault.IsTemporary(err) {
		t.Errorf("Acquire failed with %v, want a temporary error", err)
	}
	if took > 2*publishTimeout {
		t.Errorf("Acquire returned after %s, want within %s of the unanswered write", took.Round(time.Millisecond), publishTimeout)
	}
}

// TestHostBucketInMemory: the host leases live in memory, and a bucket an
// earlier newsflow made on disk is made again in memory (a stream's
// storage cannot be changed in place).
func TestHostBucketInMemory(t *testing.T) {
	for name, connect := range servers(t) {
		t.Run(name, func(t *testing.T) {
			b := connect(t)
			ctx := t.Context()
			name := "KV_" + BucketHosts
			if err := b.js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Fatal(err)
			}
			onDisk := HostBucket()
			onDisk.Storage = jetstream.FileStorage
			if _, err := b.js.CreateKeyValue(ctx, onDisk); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second call finds it in memory already
				leases, err := b.HostLeases(ctx)
				if err != nil {
					t.Fatal(err)
				}
				s, err := b.js.Stream(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				if got := s.CachedInfo().Config.Storage; got != jetstream.MemoryStorage {
					t.Fatalf("%s storage %v, want memory", name, got)
				}
				release, err := leases.Acquire(ctx, "pier.example.org", ingest.HostLimit{MaxInFlight: 1, Hold: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				release()
			}
			// A bucket in memory does not outlive its server: gone, it is
			// made again at the next request.
			leases, err := b.HostLeases(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.js.DeleteStream(ctx, name); err != nil {
				t.Fatal(err)
			}
			release, err := leases.Acquire(ctx, "pier.example.org", ingest.HostLimit{MaxInFlight: 1, Hold: time.Second})
			if err != nil {
				t.Fatalf("request after the bucket went: %v", err)
			}
			release()
			if _, err := b.js.Stream(ctx, name); err != nil {
				t.Errorf("bucket not made again: %v", err)
			}
		})
	}
}
