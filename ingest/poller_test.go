package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/ingest/fault"
)

// site serves the test feeds and pages and records the requests.
type site struct {
	t    *testing.T
	srv  *httptest.Server
	long []byte

	mu   sync.Mutex
	hits map[string]int
	last map[string]http.Header
	// override, when set for a path, serves that status instead.
	override map[string]int
}

const (
	gazetteETag   = `"gazette-1"`
	courierETag   = `"courier-1"`
	lanternLastMo = "Fri, 06 Mar 2026 20:00:00 GMT"
)

func newSite(t *testing.T) *site {
	s := &site{t: t, hits: map[string]int{}, last: map[string]http.Header{}, override: map[string]int{}}
	// A long page: the council minutes, well over 1 MB.
	var b bytes.Buffer
	b.WriteString("<!doctype html><html><head><title>Minutes of the quay debate</title></head><body><article>\n")
	for i := 0; b.Len() < 1536<<10; i++ {
		fmt.Fprintf(&b, "<p>Item %d. Councillor Aske asked again whether the quay wall would hold another winter, and the clerk read the engineer's letter once more.</p>\n", i)
	}
	b.WriteString("</article></body></html>\n")
	s.long = b.Bytes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) url(path string) string { return s.srv.URL + path }

func (s *site) fixture(name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		s.t.Error(err)
		return nil
	}
	b = bytes.ReplaceAll(b, []byte("{{BASE}}"), []byte(s.srv.URL))
	// {{PRIVATE}} is the same server under another loopback address, which
	// the client in TestPollerPagesThatFailForGood treats as private.
	private := strings.Replace(s.srv.URL, "127.0.0.1", "127.0.0.2", 1)
	return bytes.ReplaceAll(b, []byte("{{PRIVATE}}"), []byte(private))
}

func (s *site) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *site) header(path string) http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last[path]
}

func (s *site) setStatus(path string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override[path] = code
}

func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.last[r.URL.Path] = r.Header.Clone()
	code := s.override[r.URL.Path]
	s.mu.Unlock()
	if code != 0 {
		w.Header().Set("Retry-After", "3600")
		http.Error(w, "overridden", code)
		return
	}
	conditional := func(etag string) bool {
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
		return false
	}
	switch r.URL.Path {
	case "/rss.xml":
		if !conditional(gazetteETag) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(s.fixture("feeds/gazette.rss"))
		}
	case "/atom.xml":
		if !conditional(courierETag) {
			w.Header().Set("Content-Type", "application/atom+xml")
			w.Write(s.fixture("feeds/courier.atom"))
		}
	case "/feed.json":
		w.Header().Set("Last-Modified", lanternLastMo)
		if r.Header.Get("If-Modified-Since") == lanternLastMo {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/feed+json")
		w.Write(s.fixture("feeds/lantern.json"))
	case "/odd.rss":
		if !conditional(`"odd-1"`) {
			w.Write(s.fixture("feeds/odd.rss"))
		}
	case "/pages/gone":
		http.Error(w, "<html><body>This page was taken down.</body></html>", http.StatusGone)
	case "/malformed.xml":
		w.Write(s.fixture("feeds/malformed.xml"))
	case "/broken.xml":
		http.Error(w, "database on fire", http.StatusInternalServerError)
	case "/pages/tide-old":
		http.Redirect(w, r, "/pages/tide.html", http.StatusMovedPermanently)
	case "/pages/tide.html", "/pages/bridge.html", "/pages/market.html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(s.fixture(strings.TrimPrefix(r.URL.Path, "/")))
	case "/pages/long":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(s.long)
	case "/img/chart.png":
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	case "/pages/flaky":
		http.Error(w, "try again later", http.StatusInternalServerError)
	case "/pages/hang", "/hang-feed", "/hang.xml":
		<-r.Context().Done()
	default:
		http.Error(w, "<html><body>No such page in Saltmere.</body></html>", http.StatusNotFound)
	}
}

// testLogger logs to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// harness is a poller over a site with in-memory stores and a fake clock.
type harness struct {
	site  *site
	state *memState
	seen  *memSeen
	pub   *memPub
	clock *fakeClock
}

func newHarness(t *testing.T) *harness {
	return &harness{
		site:  newSite(t),
		state: newMemState(),
		seen:  newMemSeen(),
		pub:   &memPub{},
		clock: &fakeClock{t: time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)},
	}
}

const testInterval = 10 * time.Minute

func (h *harness) feed(t *testing.T, path string) Feed {
	f, err := NewFeed(h.site.url(path), path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (h *harness) poller(t *testing.T, paths []string, tweak func(*PollerConfig)) *Poller {
	t.Helper()
	var feeds []Feed
	for _, p := range paths {
		feeds = append(feeds, h.feed(t, p))
	}
	cfg := PollerConfig{
		Feeds:           feeds,
		Client:          NewClient(ClientOptions{AllowPrivateNetworks: true, Timeout: 10 * time.Second}),
		Publisher:       h.pub,
		State:           h.state,
		Seen:            h.seen,
		Interval:        testInterval,
		Jitter:          -1,
		MaxPageAttempts: 3,
		Logger:          testLogger(t),
		Now:             h.clock.Now,
		ReplicaID:       "replica-" + t.Name(),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	p, err := NewPoller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pollDue(t *testing.T, p *Poller) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.PollDue(ctx); err != nil {
		t.Fatalf("PollDue: %v", err)
	}
}

func TestPollerFeedsPagesAndFailures(t *testing.T) {
	h := newHarness(t)
	paths := []string{"/rss.xml", "/atom.xml", "/feed.json", "/broken.xml", "/malformed.xml"}
	p := h.poller(t, paths, nil)
	t0 := h.clock.Now()
	pollDue(t, p)

	got := h.pub.byTitle()
	wantTitles := []string{
		"Record tide floods the fish market",
		"Council publishes the full minutes of the quay debate",
		"Ferry timetable shrinks for the winter", // 404, published with its status
		"Rail bridge inspection finds loose bolts",
		"Night market returns to Copper Lane",
		"What the record tide left behind",
	}
	for _, title := range wantTitles {
		if _, ok := got[title]; !ok {
			t.Errorf("item %q not published", title)
		}
	}
	if len(h.pub.articles()) != len(wantTitles) {
		t.Errorf("published %d articles, want %d: %v", len(h.pub.articles()), len(wantTitles), keys(got))
	}

	rss := h.feed(t, "/rss.xml")
	tide := got["Record tide floods the fish market"]
	checks := []struct {
		what      string
		got, want any
	}{
		{"ID", tide.ID, ItemID(rss.URL, tide.Item)},
		{"schema", tide.SchemaVersion, RawSchemaVersion},
		{"Feed", tide.Feed, rss.Token},
		{"FeedURL", tide.FeedURL, rss.URL},
		{"GUID", tide.Item.GUID, "gazette-3001"},
		{"FeedTitle", tide.Item.FeedTitle, "Harbour Gazette"},
		{"Authors", strings.Join(tide.Item.Authors, "|"), "Ilse Varden"},
		{"Categories", strings.Join(tide.Item.Categories, "|"), "Weather|Saltmere"},
		{"Image", tide.Item.Image, h.site.url("/img/tide.jpg")},
		{"Published", tide.Item.Published, time.Date(2026, 3, 2, 6, 5, 0, 0, time.UTC)},
		{"Published zone", tide.Item.Published.Location(), time.UTC},
		{"URL", tide.URL, h.site.url("/pages/tide-old")},
		{"FinalURL", tide.FinalURL, h.site.url("/pages/tide.html")},
		{"Status", tide.Status, 200},
		{"Content-Type", http.Header(tide.Header).Get("Content-Type"), "text/html; charset=utf-8"},
		{"Body", string(tide.Body), string(h.site.fixture("pages/tide.html"))},
		{"FetchedAt", tide.FetchedAt, t0},
		{"no error header", tide.FetchError, ""},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("tide article %s = %v, want %v", c.what, c.got, c.want)
		}
	}

	long := got["Council publishes the full minutes of the quay debate"]
	if len(long.Body) != len(h.site.long) || len(long.Body) <= 1<<20 {
		t.Errorf("long page: %d bytes published, served %d (> 1 MB expected)", len(long.Body), len(h.site.long))
	}
	if long.Item.Image != h.site.url("/img/quay.jpg") || strings.Join(long.Item.Authors, "") != "Piet Mossbank" {
		t.Errorf("long page item: image %q authors %q", long.Item.Image, long.Item.Authors)
	}

	missing := got["Ferry timetable shrinks for the winter"]
	if missing.Status != 404 || !strings.Contains(string(missing.Body), "No such page") ||
		!strings.Contains(missing.FetchError, "404") {
		t.Errorf("404 page published as status %d, body %q, error header %q",
			missing.Status, missing.Body, missing.FetchError)
	}

	bridge := got["Rail bridge inspection finds loose bolts"]
	if bridge.URL != h.site.url("/pages/bridge.html") {
		t.Errorf("relative Atom link resolved to %q", bridge.URL)
	}
	if strings.Join(bridge.Item.Authors, "|") != "Noor Calloway|Ben Astley" || bridge.Item.Updated.IsZero() {
		t.Errorf("atom item: authors %q updated %v", bridge.Item.Authors, bridge.Item.Updated)
	}
	market := got["Night market returns to Copper Lane"]
	if strings.Join(market.Item.Categories, "|") != "Culture|Food" || market.Item.Image != h.site.url("/img/lanterns.png") ||
		!market.Item.Published.Equal(time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)) || market.Item.FeedTitle != "Lantern Weekly" {
		t.Errorf("json feed item: %+v", market.Item)
	}
	// Same page from two feeds: two items, two ids.
	if other := got["What the record tide left behind"]; other.ID == tide.ID {
		t.Errorf("items of two feeds share id %s", tide.ID)
	}

	st := p.Stats()
	wantStats := Stats{
		FeedsPolled:    4, // the malformed feed was fetched fine
		FeedErrors:     2,
		ItemsPublished: 6,
		PagesFetched:   5,
		PageErrors:     2, // 404 and the flaky page
		PagesGivenUp:   1,
	}
	if st != wantStats {
		t.Errorf("stats\n got %+v\nwant %+v", st, wantStats)
	}

	// Feed states: validators only where every item was handled; errors
	// recorded with a backoff; claims released.
	gaz := h.state.get(rss.Token)
	// The poller keeps its claim for the next round, ClaimTTL past it.
	if gaz.ETag != gazetteETag || gaz.ErrorStreak != 0 || gaz.ClaimedBy != p.cfg.ReplicaID ||
		!gaz.NextDue.Equal(t0.Add(testInterval)) || !gaz.ClaimedUntil.Equal(gaz.NextDue.Add(DefaultClaimTTL)) {
		t.Errorf("gazette state %+v", gaz)
	}
	cou := h.state.get(h.feed(t, "/atom.xml").Token)
	if cou.ETag != "" || len(cou.PageFailures) != 1 {
		t.Errorf("courier state: ETag %q saved with a page pending; page failures %v", cou.ETag, cou.PageFailures)
	}
	if lan := h.state.get(h.feed(t, "/feed.json").Token); lan.LastModified != lanternLastMo {
		t.Errorf("lantern state: Last-Modified %q", lan.LastModified)
	}
	broken := h.state.get(h.feed(t, "/broken.xml").Token)
	if broken.ErrorStreak != 1 || !strings.Contains(broken.LastError, "500") ||
		!strings.Contains(broken.LastError, h.site.url("/broken.xml")) || !broken.NextDue.Equal(t0.Add(testInterval)) {
		t.Errorf("broken feed state %+v", broken)
	}
	mal := h.state.get(h.feed(t, "/malformed.xml").Token)
	if mal.ErrorStreak != 1 || !strings.Contains(mal.LastError, "parse") {
		t.Errorf("malformed feed state %+v", mal)
	}

	// Nothing is due until the interval has passed.
	pollDue(t, p)
	if n := h.site.count("/rss.xml"); n != 1 {
		t.Errorf("feed fetched %d times before it was due", n)
	}

	// Second poll: conditional requests, nothing new.
	h.clock.Advance(testInterval)
	pollDue(t, p)
	if inm := h.site.header("/rss.xml").Get("If-None-Match"); inm != gazetteETag {
		t.Errorf("second poll sent If-None-Match %q, want %q", inm, gazetteETag)
	}
	if ims := h.site.header("/feed.json").Get("If-Modified-Since"); ims != lanternLastMo {
		t.Errorf("second poll sent If-Modified-Since %q", ims)
	}
	if inm := h.site.header("/atom.xml").Get("If-None-Match"); inm != "" {
		t.Errorf("courier has a page pending, yet the poll sent If-None-Match %q", inm)
	}
	st = p.Stats()
	if st.FeedsNotModified != 2 || st.ItemsPublished != 6 || st.ItemsSeen != 1 {
		t.Errorf("after the second poll: %+v", st)
	}
	if n := h.site.count("/pages/tide.html"); n != 2 { // once per feed
		t.Errorf("tide page fetched %d times, want 2", n)
	}
	if n := h.site.count("/broken.xml"); n != 2 {
		t.Errorf("broken feed fetched %d times, want 2", n)
	}
	if b := h.state.get(h.feed(t, "/broken.xml").Token); b.ErrorStreak != 2 || !b.NextDue.Equal(h.clock.Now().Add(2*testInterval)) {
		t.Errorf("broken feed after two failures: streak %d next due %v (now %v)", b.ErrorStreak, b.NextDue, h.clock.Now())
	}

	// Third poll: the flaky page uses up its attempts and is published
	// with its failure; then the courier's ETag is saved.
	h.clock.Advance(testInterval)
	pollDue(t, p)
	if n := h.site.count("/broken.xml"); n != 2 {
		t.Errorf("broken feed polled during its backoff (%d fetches)", n)
	}
	flaky, ok := h.pub.byTitle()["Orchard cooperative doubles its cider output"]
	if !ok {
		t.Fatalf("flaky page not published after %d attempts", 3)
	}
	if n := h.site.count("/pages/flaky"); n != 3 {
		t.Errorf("flaky page fetched %d times, want 3", n)
	}
	if e := flaky.FetchError; flaky.Status != 500 || !strings.Contains(e, "gave up after 3 attempts") {
		t.Errorf("flaky page published with status %d, error %q", flaky.Status, e)
	}
	if c := h.state.get(h.feed(t, "/atom.xml").Token); c.ETag != courierETag || c.PageFailures != nil {
		t.Errorf("courier after all items handled: ETag %q, page failures %v", c.ETag, c.PageFailures)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPollerPublishErrorStopsRound(t *testing.T) {
	h := newHarness(t)
	h.pub.failAt = 2
	// One page at a time, so that none is under way when the publish fails.
	p := h.poller(t, []string{"/rss.xml"}, func(c *PollerConfig) { c.PerHost = 1 })
	pollDue(t, p)
	if n := len(h.pub.articles()); n != 1 {
		t.Fatalf("published %d before the failure, want 1", n)
	}
	st := p.Stats()
	if st.PublishErrors != 1 || st.ItemsPublished != 1 {
		t.Errorf("stats %+v", st)
	}
	token := h.feed(t, "/rss.xml").Token
	s := h.state.get(token)
	if s.ETag != "" || s.ErrorStreak != 1 || !strings.Contains(s.LastError, errBusDown.Error()) {
		t.Errorf("state after publish error: %+v", s)
	}
	if n := h.site.count("/pages/tide.html"); n != 1 {
		t.Errorf("page fetched %d times", n)
	}
	// Next time, the rest is published, and the first not again.
	h.clock.Advance(testInterval)
	pollDue(t, p)
	arts := h.pub.articles()
	if len(arts) != 3 {
		t.Fatalf("published %d in all, want 3", len(arts))
	}
	ids := map[string]bool{}
	for _, a := range arts {
		if ids[a.ID] {
			t.Errorf("item %q published twice", a.Item.Title)
		}
		ids[a.ID] = true
	}
	if s := h.state.get(token); s.ETag != gazetteETag || s.ErrorStreak != 0 || s.LastError != "" {
		t.Errorf("state after recovery: %+v", s)
	}
}

func TestPollerRetryAfter(t *testing.T) {
	for _, code := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			h := newHarness(t)
			h.site.setStatus("/rss.xml", code) // with Retry-After: 3600
			p := h.poller(t, []string{"/rss.xml"}, nil)
			pollDue(t, p)
			s := h.state.get(h.feed(t, "/rss.xml").Token)
			if want := h.clock.Now().Add(time.Hour); !s.NextDue.Equal(want) {
				t.Errorf("next due %v, want %v (Retry-After)", s.NextDue, want)
			}
			h.clock.Advance(59 * time.Minute)
			pollDue(t, p)
			if n := h.site.count("/rss.xml"); n != 1 {
				t.Errorf("polled %d times within Retry-After", n)
			}
		})
	}
}

func TestPollerPageRateLimitDefersHost(t *testing.T) {
	// Items are handled oldest first: tide-old, long, missing. The oldest
	// page is rate-limited, so the others on its host wait for next time.
	h := newHarness(t)
	h.site.setStatus("/pages/tide-old", http.StatusTooManyRequests)
	// One page of a host at a time, so the next waits for the first.
	p := h.poller(t, []string{"/rss.xml"}, func(c *PollerConfig) { c.PerHost = 1 })
	pollDue(t, p)
	if n := len(h.pub.articles()); n != 0 {
		t.Errorf("published %d articles from a host that said 429", n)
	}
	if h.site.count("/pages/long") != 0 || h.site.count("/pages/missing") != 0 {
		t.Errorf("pages fetched from a host that said 429")
	}
	s := h.state.get(h.feed(t, "/rss.xml").Token)
	if len(s.PageFailures) != 1 || s.ETag != "" {
		t.Errorf("state %+v: want one page failure counted and no ETag", s)
	}
}

func TestPollersShareFeeds(t *testing.T) {
	h := newHarness(t)
	paths := []string{"/rss.xml", "/atom.xml", "/feed.json"}
	var ps []*Poller
	for i := range 3 {
		ps = append(ps, h.poller(t, paths, func(c *PollerConfig) { c.ReplicaID = fmt.Sprintf("replica-%d", i) }))
	}
	for round := range 3 {
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Go(func() { pollDue(t, p) })
		}
		wg.Wait()
		for _, path := range paths {
			if n := h.site.count(path); n != round+1 {
				t.Errorf("round %d: %s fetched %d times by 3 replicas, want %d", round, path, n, round+1)
			}
		}
		h.clock.Advance(testInterval)
	}
	ids := map[string]int{}
	for _, a := range h.pub.articles() {
		ids[a.ID]++
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("item %s published %d times", id, n)
		}
	}
	var lost int64
	for _, p := range ps {
		lost += p.Stats().ClaimsLost
	}
	t.Logf("claims lost to another replica: %d", lost)
}

func TestPollerClaimBlocksOtherReplicas(t *testing.T) {
	h := newHarness(t)
	f := h.feed(t, "/rss.xml")
	now := h.clock.Now()
	// Another replica holds a live claim on a due feed.
	if _, err := h.state.SaveFeedState(context.Background(), f.Token, FeedState{NextDue: now.Add(-time.Minute), ClaimedBy: "other", ClaimedUntil: now.Add(time.Minute)}, 0); err != nil {
		t.Fatal(err)
	}
	p := h.poller(t, []string{"/rss.xml"}, nil)
	pollDue(t, p)
	if n := h.site.count("/rss.xml"); n != 0 {
		t.Fatalf("fetched a feed claimed by another replica")
	}
	// The claim runs out (its holder died): the feed is taken over.
	h.clock.Advance(2 * time.Minute)
	pollDue(t, p)
	if n := h.site.count("/rss.xml"); n != 1 {
		t.Fatalf("feed with an expired claim fetched %d times, want 1", n)
	}
}

func TestPollerStoreFailuresDoNotStop(t *testing.T) {
	h := newHarness(t)
	h.seen.fail = errors.New("seen bucket unavailable")
	p := h.poller(t, []string{"/rss.xml", "/feed.json"}, nil)
	pollDue(t, p)
	st := p.Stats()
	if st.ItemsPublished != 0 || st.StateErrors != 2 || st.FeedsPolled != 2 {
		t.Errorf("stats with a failing seen store: %+v", st)
	}
	if s := h.state.get(h.feed(t, "/rss.xml").Token); s.ETag != "" || s.ErrorStreak != 1 {
		t.Errorf("state %+v", s)
	}
	h.seen.fail = nil
	h.clock.Advance(time.Hour)
	pollDue(t, p)
	if n := len(h.pub.articles()); n != 5 {
		t.Errorf("published %d after the store recovered, want 5", n)
	}
}

func TestPollerRunStopsPromptly(t *testing.T) {
	h := newHarness(t)
	p := h.poller(t, []string{"/rss.xml", "/hang.xml"}, func(c *PollerConfig) {
		c.Now = nil // real clock
		c.Interval = 50 * time.Millisecond
		c.RoundTimeout = time.Minute
	})
	// /hang.xml is a feed whose fetch never ends until cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	waitFor(t, "the feed to be polled twice", func() bool { return p.Stats().FeedsNotModified >= 1 })
	if n := len(h.pub.articles()); n != 3 {
		t.Errorf("published %d, want 3", n)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// waitFor is checkFor for a condition that has no state to report.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	checkFor(t, 20*time.Second, func() error {
		if !cond() {
			return fmt.Errorf("waiting for %s", what)
		}
		return nil
	})
}

func TestPollerShutdownReleasesClaim(t *testing.T) {
	h := newHarness(t)
	p := h.poller(t, []string{"/hang-feed"}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.PollDue(ctx); close(done) }()
	waitFor(t, "the fetch to start", func() bool { return h.site.count("/hang-feed") == 1 })
	token := h.feed(t, "/hang-feed").Token
	if s := h.state.get(token); s.ClaimedBy == "" || !s.ClaimedUntil.After(h.clock.Now()) {
		t.Errorf("state during the poll is not claimed: %+v", s)
	}
	cancel()
	<-done
	s := h.state.get(token)
	if s.ClaimedBy != "" || !s.ClaimedUntil.IsZero() || !s.NextDue.IsZero() || s.ErrorStreak != 0 {
		t.Errorf("state after shutdown should be released and due: %+v", s)
	}
}

func TestNewPollerValidates(t *testing.T) {
	good := func() PollerConfig {
		f, _ := NewFeed("https://a.example.org/feed", "")
		return PollerConfig{Feeds: []Feed{f}, Publisher: &memPub{}, State: newMemState(), Seen: newMemSeen()}
	}
	tests := []struct {
		name  string
		tweak func(*PollerConfig)
		want  string
	}{
		{"no feeds", func(c *PollerConfig) { c.Feeds = nil }, "Feeds"},
		{"no publisher", func(c *PollerConfig) { c.Publisher = nil }, "Publisher"},
		{"no state", func(c *PollerConfig) { c.State = nil }, "State"},
		{"no seen", func(c *PollerConfig) { c.Seen = nil }, "Seen"},
		{"negative interval", func(c *PollerConfig) { c.Interval = -time.Second }, "Interval"},
		{"negative min interval", func(c *PollerConfig) { c.MinInterval = -time.Second }, "MinInterval"},
		{"min over interval", func(c *PollerConfig) { c.MinInterval = time.Hour }, "MinInterval 1h0m0s"},
		{"max under interval", func(c *PollerConfig) { c.MaxInterval = time.Minute }, "MaxInterval 1m0s"},
		{"negative concurrency", func(c *PollerConfig) { c.Concurrency = -1 }, "Concurrency"},
		{"negative per host", func(c *PollerConfig) { c.PerHost = -2 }, "PerHost"},
		{"negative attempts", func(c *PollerConfig) { c.MaxPageAttempts = -1 }, "MaxPageAttempts"},
		{"bad feed URL", func(c *PollerConfig) { c.Feeds = append(c.Feeds, Feed{URL: "ftp://x.example/"}) }, "Feeds[1]"},
		{"unsafe token", func(c *PollerConfig) { c.Feeds[0].Token = "a.b" }, "token"},
		{"duplicate feed", func(c *PollerConfig) { c.Feeds = append(c.Feeds, c.Feeds[0]) }, "same token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good()
			tt.tweak(&c)
			_, err := NewPoller(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewPoller error %v, want one naming %q", err, tt.want)
			}
		})
	}
	cfg := good()
	cfg.Feeds = []Feed{{URL: "https://b.example.org/rss"}}
	p, err := NewPoller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Feeds[0].Token != "" || p.cfg.Feeds[0].Token != FeedToken("https://b.example.org/rss") {
		t.Errorf("token: caller's %q (must stay empty), poller's %q", cfg.Feeds[0].Token, p.cfg.Feeds[0].Token)
	}
	c := p.cfg
	if c.Interval != DefaultInterval || c.MaxBackoff != 4*time.Hour || c.Concurrency != DefaultConcurrency ||
		c.RoundTimeout != 10*time.Minute || c.ClaimTTL != DefaultClaimTTL || c.Jitter != DefaultInterval/10 ||
		c.MinInterval != DefaultInterval || c.MaxInterval != DefaultInterval {
		t.Errorf("defaults: %+v", c)
	}
}

func TestBackoff(t *testing.T) {
	p := &Poller{cfg: PollerConfig{Interval: 10 * time.Minute, MaxBackoff: 2 * time.Hour}}
	tests := []struct {
		streak     int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, 10 * time.Minute},
		{2, 0, 20 * time.Minute},
		{3, 0, 40 * time.Minute},
		{4, 0, 80 * time.Minute},
		{5, 0, 2 * time.Hour},
		{50, 0, 2 * time.Hour},
		{1, 30 * time.Minute, 30 * time.Minute},
		{1, 24 * time.Hour, 2 * time.Hour},
	}
	for _, tt := range tests {
		if got := p.backoff(tt.streak, tt.retryAfter); got != tt.want {
			t.Errorf("backoff(%d, %s) = %s, want %s", tt.streak, tt.retryAfter, got, tt.want)
		}
	}
}

func TestPollerStateStoreDown(t *testing.T) {
	h := newHarness(t)
	h.state.fail = errors.New("bucket unavailable")
	p := h.poller(t, []string{"/rss.xml", "/atom.xml", "/feed.json"}, nil)
	pollDue(t, p)
	if st := p.Stats(); st.StateErrors == 0 || st.FeedsPolled != 0 {
		t.Errorf("a failing store: %+v", st)
	}
	// No new claims while the store is down: the next try is storeRetry
	// later, not at once.
	errs := p.Stats().StateErrors
	pollDue(t, p)
	if st := p.Stats(); st.StateErrors != errs {
		t.Errorf("claims tried again within storeRetry: %d errors, then %d", errs, st.StateErrors)
	}
	h.state.mu.Lock()
	h.state.fail = nil
	h.state.mu.Unlock()
	h.clock.Advance(time.Minute)
	pollDue(t, p)
	if st := p.Stats(); st.FeedsPolled != 3 {
		t.Errorf("after the store recovered: %+v", st)
	}
}

// TestPollerPagesThatFailForGood: items whose pages can never be fetched are
// published at once with their failure, and the feed counts as handled.
func TestPollerPagesThatFailForGood(t *testing.T) {
	h := newHarness(t)
	p := h.poller(t, []string{"/odd.rss"}, func(c *PollerConfig) {
		// 127.0.0.1 plays a public host; 127.0.0.2 stays private.
		c.Client = newClient(ClientOptions{MaxBodyBytes: 64 << 10}, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})
	})
	pollDue(t, p)
	got := h.pub.byTitle()
	tests := []struct {
		title  string
		status int
		errHas string
	}{
		{"A notice pinned to the chapel door", 0, ErrNoLink.Error()},
		{"Write to the editor", 0, "mailto"},
		{"The whole archive on one page", 200, "65536"},
		{"The lighthouse page that moved away", 410, "410"},
		{"A page on the inside network", 0, "127.0.0.2"},
		{"The tide chart as a picture", 200, "not an HTML page: image/png"},
	}
	for _, tt := range tests {
		a, ok := got[tt.title]
		if !ok {
			t.Errorf("%q not published", tt.title)
			continue
		}
		e := a.FetchError
		if a.Status != tt.status || !strings.Contains(e, tt.errHas) {
			t.Errorf("%q: status %d, error header %q; want status %d and an error naming %q", tt.title, a.Status, e, tt.status, tt.errHas)
		}
	}
	if a := got["The lighthouse page that moved away"]; !strings.Contains(string(a.Body), "taken down") {
		t.Errorf("410 body not kept: %q", a.Body)
	}
	if a := got["The whole archive on one page"]; len(a.Body) != 0 {
		t.Errorf("oversized page published with %d bytes of body", len(a.Body))
	}
	// Items that failed are not marked seen as if they had succeeded; the
	// feed's state remembers them while they are in it, so they are not
	// published (and parked) again at each poll.
	for _, a := range got {
		if seen, _ := h.seen.Seen(t.Context(), a.ID); seen {
			t.Errorf("%q marked seen, though its page failed", a.Item.Title)
		}
	}
	token := h.feed(t, "/odd.rss").Token
	s, rev, _ := h.state.LoadFeedState(t.Context(), token)
	if len(s.GivenUp) != 6 {
		t.Errorf("state remembers %d given-up items, want 6", len(s.GivenUp))
	}
	s.ETag = "" // the feed answers 200 again
	if _, err := h.state.SaveFeedState(t.Context(), token, s, rev); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	pollDue(t, p)
	if n := len(h.pub.articles()); n != 6 || h.site.count("/pages/gone") != 1 {
		t.Errorf("second poll: %d published, gone page fetched %d times; want 6 and 1", n, h.site.count("/pages/gone"))
	}
	if a := got["The tide chart as a picture"]; len(a.Body) != 0 {
		t.Errorf("image published with %d bytes of body", len(a.Body))
	}
	st := p.Stats()
	if st.ItemsPublished != 6 || st.PagesGivenUp != 6 || st.PageErrors != 5 {
		t.Errorf("stats %+v", st)
	}
	if s := h.state.get(token); s.ETag != `"odd-1"` || s.PageFailures != nil {
		t.Errorf("feed state %+v: all items handled, the ETag should be saved", s)
	}
}

// TestHeartbeatDoesNotShareRoundMaps: the claim's heartbeat saves the feed's
// state while the round counts page failures; it must not read the maps the
// round writes (under -race, and at times without it, sharing them fails).
func TestHeartbeatDoesNotShareRoundMaps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/feed.xml" {
			w.Header().Set("Content-Type", "application/rss+xml")
			var b strings.Builder
			b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Breakwater News</title>`)
			for i := 1; i <= 30; i++ {
				fmt.Fprintf(&b, "<item><title>Tide table %d</title><link>http://%s/p/%d</link><guid>t%d</guid></item>", i, r.Host, i, i)
			}
			b.WriteString("</channel></rss>")
			w.Write([]byte(b.String()))
			return
		}
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r) // no robots.txt: every page allowed
			return
		}
		time.Sleep(2 * time.Millisecond)
		http.Error(w, "the server is being rebuilt", http.StatusInternalServerError)
	}))
	defer srv.Close()
	h := newHarness(t)
	f, err := NewFeed(srv.URL+"/feed.xml", "")
	if err != nil {
		t.Fatal(err)
	}
	p := h.poller(t, nil, func(c *PollerConfig) {
		c.Feeds = []Feed{f}
		c.MaxPageAttempts = 100
		c.ClaimTTL = 6 * time.Millisecond // a heartbeat every 2ms
	})
	for round := 1; round <= 3; round++ {
		pollDue(t, p)
		h.clock.Advance(testInterval)
		st := h.state.get(f.Token)
		if len(st.PageFailures) != 30 {
			t.Fatalf("round %d: %d items with page failures, want 30", round, len(st.PageFailures))
		}
		for id, n := range st.PageFailures {
			if n != round {
				t.Fatalf("round %d: item %s failed %d times", round, id, n)
			}
		}
	}
}

// TestPollerFeedReaddedDuringRound: a feed removed and added again while
// its round is under way is not polled a second time at once.
func TestPollerFeedReaddedDuringRound(t *testing.T) {
	h := newHarness(t)
	p := h.poller(t, []string{"/rss.xml", "/hang.xml"}, func(c *PollerConfig) {
		c.Now = nil // real clock
		c.Interval = 50 * time.Millisecond
		c.RoundTimeout = time.Minute
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the feed that hangs to be fetched", func() bool { return h.site.count("/hang.xml") == 1 })
	hang := h.feed(t, "/hang.xml")
	p.SetFeed(hang, false)
	p.SetFeed(hang, true)
	polled := p.Stats().FeedsPolled
	waitFor(t, "the other feed to be polled three times more", func() bool { return p.Stats().FeedsPolled >= polled+3 })
	if n := h.site.count("/hang.xml"); n != 1 {
		t.Errorf("the feed added again during its round was fetched %d times, want once", n)
	}
}

// busDownLeases answers the feed's request and then fails every Acquire as
// the shared host limits do while the bus is down, until up is set.
type busDownLeases struct {
	calls atomic.Int32
	up    atomic.Bool
}

func (l *busDownLeases) Acquire(ctx context.Context, host string, lim HostLimit) (func(), error) {
	if l.calls.Add(1) == 1 || l.up.Load() {
		return func() {}, nil
	}
	return nil, fault.AsTemporary(errors.New("bus: load host record: nats: no responders available for request"))
}

func (l *busDownLeases) Defer(ctx context.Context, host string, d time.Duration) error { return nil }

// Pages whose shared host limits cannot be asked (the bus went down after
// the feed was read) fail the round as the bus's failure: the feed is
// polled again within seconds, its items not marked seen, and the site's
// robots.txt is not remembered as unavailable. They used to be "left for
// the next poll" of a round that succeeded, an interval later.
func TestPageHostLimitsUnreachable(t *testing.T) {
	h := newHarness(t)
	leases := &busDownLeases{}
	p := h.poller(t, []string{"/rss.xml"}, func(c *PollerConfig) { c.Hosts = leases })
	pollDue(t, p)
	st := h.state.get(h.feed(t, "/rss.xml").Token)
	if st.ErrorStreak != 1 || !strings.Contains(st.LastError, "no responders") {
		t.Errorf("after the round: streak %d, last error %q; want the bus's failure", st.ErrorStreak, st.LastError)
	}
	if got, want := st.NextDue.Sub(h.clock.Now()), busBackoff(1); got != want {
		t.Errorf("next poll in %s, want %s (the bus's backoff, not the interval %s)", got, want, testInterval)
	}
	if n := len(h.pub.articles()); n != 0 {
		t.Errorf("%d pages published without their host limits", n)
	}
	leases.up.Store(true)
	h.clock.Advance(busBackoff(1))
	pollDue(t, p)
	if len(h.pub.articles()) == 0 {
		t.Error("no page published at the first poll after the bus was back")
	}
}
