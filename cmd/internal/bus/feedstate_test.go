package bus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/ingest"
)

// feedStateJS starts an in-process JetStream server and returns n separate
// connections to it, as n fetcher replicas would have.
func feedStateJS(t *testing.T, n int) []jetstream.JetStream {
	t.Helper()
	s := runServer(t)
	var out []jetstream.JetStream
	for range n {
		nc, err := nats.Connect(s.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, js)
	}
	return out
}

func feedKV(t *testing.T, js jetstream.JetStream, cfg jetstream.KeyValueConfig) jetstream.KeyValue {
	t.Helper()
	kv, err := js.CreateOrUpdateKeyValue(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func TestFeedStateKV(t *testing.T) {
	js := feedStateJS(t, 1)[0]
	kv := feedKV(t, js, FeedStateBucket())
	s := NewFeedStateKV(kv)
	ctx := t.Context()
	const token = "gazette-example-org-0a1b2c3d"

	st, rev, err := s.LoadFeedState(ctx, token)
	if err != nil || rev != 0 || st.ETag != "" {
		t.Fatalf("absent state: %+v rev %d err %v", st, rev, err)
	}
	due := time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)
	want := ingest.FeedState{URL: "https://gazette.example.org/rss.xml", ETag: `"v1"`, LastModified: "Fri, 06 Mar 2026 20:00:00 GMT",
		NextDue: due, ErrorStreak: 2, LastError: "boom", PageFailures: map[string]int{"abc": 2},
		Cadence: ingest.Cadence{Polls: []ingest.PollNote{{At: due.Add(-time.Hour)}, {At: due.Add(-time.Minute), New: 3}},
			ItemGap: 40 * time.Minute, LastItem: due.Add(-2 * time.Hour),
			FeedHints: ingest.FeedHints{TTL: time.Hour, SkipHours: []int{1, 2}, SkipDays: []time.Weekday{time.Sunday}}}}
	rev1, err := s.SaveFeedState(ctx, token, want, 0)
	if err != nil || rev1 == 0 {
		t.Fatalf("create: rev %d err %v", rev1, err)
	}
	if _, err := s.SaveFeedState(ctx, token, want, 0); !errors.Is(err, ingest.ErrStateConflict) {
		t.Errorf("second create: error %v, want ErrStateConflict", err)
	}
	got, rev, err := s.LoadFeedState(ctx, token)
	if err != nil || rev != rev1 {
		t.Fatalf("load: rev %d (want %d) err %v", rev, rev1, err)
	}
	if got.ETag != want.ETag || got.LastModified != want.LastModified || !got.NextDue.Equal(due) ||
		got.ErrorStreak != 2 || got.LastError != "boom" || got.PageFailures["abc"] != 2 || got.URL != want.URL {
		t.Errorf("round trip: got %+v, want %+v", got, want)
	}
	if c := got.Cadence; len(c.Polls) != 2 || !c.Polls[1].At.Equal(due.Add(-time.Minute)) || c.Polls[1].New != 3 ||
		c.ItemGap != 40*time.Minute || !c.LastItem.Equal(due.Add(-2*time.Hour)) || c.TTL != time.Hour ||
		!slices.Equal(c.SkipHours, []int{1, 2}) || !slices.Equal(c.SkipDays, []time.Weekday{time.Sunday}) {
		t.Errorf("cadence round trip: got %+v, want %+v", c, want.Cadence)
	}

	got.ETag = `"v2"`
	rev2, err := s.SaveFeedState(ctx, token, got, rev1)
	if err != nil || rev2 <= rev1 {
		t.Fatalf("update: rev %d err %v", rev2, err)
	}
	if _, err := s.SaveFeedState(ctx, token, got, rev1); !errors.Is(err, ingest.ErrStateConflict) {
		t.Errorf("stale update: error %v, want ErrStateConflict", err)
	}

	// A deleted key is absent again, and can be created.
	if err := kv.Delete(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, rev, err := s.LoadFeedState(ctx, token); rev != 0 || err != nil {
		t.Errorf("deleted key: rev %d err %v", rev, err)
	}
	if _, err := s.SaveFeedState(ctx, token, want, 0); err != nil {
		t.Errorf("create after delete: %v", err)
	}

	// A value newsflow cannot read loads as an empty state that can be
	// overwritten at its revision.
	badRev, err := kv.Put(ctx, "garbled", []byte("{not json"))
	if err != nil {
		t.Fatal(err)
	}
	st, rev, err = s.LoadFeedState(ctx, "garbled")
	if err != nil || rev != badRev || st.ETag != "" {
		t.Errorf("garbled value: %+v rev %d (want %d) err %v", st, rev, badRev, err)
	}
	if _, err := s.SaveFeedState(ctx, "garbled", want, rev); err != nil {
		t.Errorf("overwrite garbled value: %v", err)
	}
}

// TestFeedStateKVClaimRace has two replicas, on their own connections, load
// the same due feed and race to claim it: exactly one wins, every time.
func TestFeedStateKVClaimRace(t *testing.T) {
	conns := feedStateJS(t, 2)
	stores := []*FeedStateKV{
		NewFeedStateKV(feedKV(t, conns[0], FeedStateBucket())),
		NewFeedStateKV(feedKV(t, conns[1], FeedStateBucket())),
	}
	ctx := t.Context()
	for i := range 25 {
		token := fmt.Sprintf("feed-%d", i)
		if i%2 == 1 { // odd feeds have state already; even ones are new (Create)
			if _, err := stores[0].SaveFeedState(ctx, token, ingest.FeedState{NextDue: time.Now().Add(-time.Minute)}, 0); err != nil {
				t.Fatal(err)
			}
		}
		var loaded sync.WaitGroup
		loaded.Add(2)
		var wins, conflicts, others sync.Map
		var wg sync.WaitGroup
		for r, s := range stores {
			wg.Go(func() {
				st, rev, err := s.LoadFeedState(ctx, token)
				loaded.Done()
				if err != nil {
					others.Store(r, err)
					return
				}
				loaded.Wait() // both have loaded the same revision
				st.ClaimedBy = fmt.Sprintf("replica-%d", r)
				st.ClaimedUntil = time.Now().Add(time.Minute)
				_, err = s.SaveFeedState(ctx, token, st, rev)
				switch {
				case err == nil:
					wins.Store(r, true)
				case errors.Is(err, ingest.ErrStateConflict):
					conflicts.Store(r, true)
				default:
					others.Store(r, err)
				}
			})
		}
		wg.Wait()
		count := func(m *sync.Map) (n int) {
			m.Range(func(any, any) bool { n++; return true })
			return n
		}
		if w, c, o := count(&wins), count(&conflicts), count(&others); w != 1 || c != 1 || o != 0 {
			t.Fatalf("%s: %d wins, %d conflicts, %d other errors; want exactly one winner", token, w, c, o)
		}
	}
}

func TestSeenKV(t *testing.T) {
	js := feedStateJS(t, 1)[0]
	kv := feedKV(t, js, SeenBucket())
	st, err := kv.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.TTL() != SeenTTL || st.Bucket() != BucketSeen {
		t.Errorf("seen bucket %s TTL %s, want %s %s", st.Bucket(), st.TTL(), BucketSeen, SeenTTL)
	}
	s := NewSeenKV(kv)
	ctx := t.Context()
	id := ingest.ItemID("https://gazette.example.org/rss.xml", ingest.FeedItem{GUID: "g-1"})
	if seen, err := s.Seen(ctx, id); seen || err != nil {
		t.Fatalf("fresh id seen=%v err=%v", seen, err)
	}
	if err := s.MarkSeen(ctx, id); err != nil {
		t.Fatal(err)
	}
	if seen, err := s.Seen(ctx, id); !seen || err != nil {
		t.Errorf("marked id seen=%v err=%v", seen, err)
	}
	if seen, _ := s.Seen(ctx, id+"0"); seen {
		t.Error("another id is seen")
	}

	// An item marked seen by MarkSeen has no page version; one marked
	// with MarkSeenVersion is seen and has it.
	if _, ok, err := s.PageVersion(ctx, id); ok || err != nil {
		t.Errorf("version of an item seen without one: ok=%v err=%v", ok, err)
	}
	if _, ok, err := s.PageVersion(ctx, id+"1"); ok || err != nil {
		t.Errorf("version of an unseen item: ok=%v err=%v", ok, err)
	}
	v := ingest.PageVersion{Updated: time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC), ETag: `"p1"`,
		LastModified: "Sat, 07 Mar 2026 08:00:00 GMT", BodyHash: "0123456789abcdef0123456789abcdef"}
	other := id[:len(id)-1] + "x"
	if err := s.MarkSeenVersion(ctx, other, v); err != nil {
		t.Fatal(err)
	}
	if seen, err := s.Seen(ctx, other); !seen || err != nil {
		t.Errorf("item marked with a version: seen=%v err=%v", seen, err)
	}
	got, ok, err := s.PageVersion(ctx, other)
	if !ok || err != nil || got != v {
		t.Errorf("PageVersion = %+v ok=%v err=%v, want %+v", got, ok, err, v)
	}
}

type countingPublisher struct {
	mu  sync.Mutex
	ids map[string]int
}

func (p *countingPublisher) PublishRaw(ctx context.Context, a ingest.RawArticle) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids[a.ID]++
	return nil
}

// TestPollersShareFeedsOverKV runs two ingest.Pollers, each on its own
// connection, over the same buckets: each feed is fetched once per round.
func TestPollersShareFeedsOverKV(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/page" {
			fmt.Fprint(w, "<html><body><p>The ferry ran late again.</p></body></html>")
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Quay %s</title>
<item><title>Ferry late</title><link>%s/page?f=%s</link><guid>%s-1</guid></item></channel></rss>`, r.URL.Path, "http://"+r.Host, r.URL.Path, r.URL.Path)
	}))
	defer srv.Close()

	var feeds []ingest.Feed
	for i := range 6 {
		f, err := ingest.NewFeed(fmt.Sprintf("%s/feed%d.xml", srv.URL, i), "")
		if err != nil {
			t.Fatal(err)
		}
		feeds = append(feeds, f)
	}
	pub := &countingPublisher{ids: map[string]int{}}
	var pollers []*ingest.Poller
	for r, js := range feedStateJS(t, 2) {
		p, err := ingest.NewPoller(ingest.PollerConfig{
			Feeds:     feeds,
			Client:    ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: true}),
			Publisher: pub,
			State:     NewFeedStateKV(feedKV(t, js, FeedStateBucket())),
			Seen:      NewSeenKV(feedKV(t, js, SeenBucket())),
			Interval:  time.Hour,
			ReplicaID: fmt.Sprintf("replica-%d", r),
			Logger:    testLogger(t),
		})
		if err != nil {
			t.Fatal(err)
		}
		pollers = append(pollers, p)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range pollers {
		wg.Go(func() {
			if err := p.PollDue(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i := range feeds {
		if n := hits[fmt.Sprintf("/feed%d.xml", i)]; n != 1 {
			t.Errorf("feed %d fetched %d times by two replicas, want 1", i, n)
		}
	}
	if len(pub.ids) != len(feeds) {
		t.Errorf("%d items published, want %d", len(pub.ids), len(feeds))
	}
	for id, n := range pub.ids {
		if n != 1 {
			t.Errorf("item %s published %d times", id, n)
		}
	}
	var lost int64
	for _, p := range pollers {
		lost += p.Stats().ClaimsLost
	}
	t.Logf("claims lost: %d", lost)
}
