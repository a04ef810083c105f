package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// testSite serves the demo site plus the awkward cases: a feed whose items
// point to a page larger than NATS's 1 MB message limit and to a missing
// page, and a feed that is not XML at all.
type testSite struct {
	*httptest.Server
	feedHits atomic.Int64
}

func newTestSite(t *testing.T) *testSite {
	s := &testSite{}
	mux := http.NewServeMux()
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	demo := demoHandler(s.URL)
	big := bigPage(s.URL)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/feeds/") {
			s.feedHits.Add(1)
		}
		switch r.URL.Path {
		case "/feeds/extra.rss":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Extra</title>
<item><title>The very long council minutes</title><link>%[1]s/extra/minutes.html</link><guid>extra-1</guid><pubDate>Wed, 04 Mar 2026 12:00:00 GMT</pubDate></item>
<item><title>A page that was taken down</title><link>%[1]s/extra/gone.html</link><guid>extra-2</guid></item>
</channel></rss>`, s.URL)
		case "/feeds/broken.xml":
			io.WriteString(w, "this is not a feed <<<")
		case "/extra/minutes.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, big)
		case "/extra/gone.html":
			http.Error(w, "gone", http.StatusGone)
		default:
			demo.ServeHTTP(w, r)
		}
	})
	return s
}

// bigPage is an article of about 1.5 MB of text.
func bigPage(base string) string {
	var b strings.Builder
	b.WriteString(`<html lang="en"><head><title>The very long council minutes</title><link rel="canonical" href="` + base + `/extra/minutes.html"></head><body><article><h1>The very long council minutes</h1>`)
	for i := range 6000 {
		fmt.Fprintf(&b, "<p>Item %d of the minutes: the council discussed the state of the footpaths, the cost of winter gritting, and whether the market square should close to cars on Saturdays, and agreed to return to it at the next meeting.</p>\n", i)
	}
	b.WriteString("</article></body></html>")
	return b.String()
}

func (s *testSite) feedList(t *testing.T) string {
	f := filepath.Join(t.TempDir(), "feeds.txt")
	list := strings.Join([]string{
		"# test feeds",
		s.URL + "/feeds/town.rss",
		s.URL + "/feeds/science.atom",
		s.URL + "/feeds/sport.json",
		s.URL + "/feeds/extra.rss",
		s.URL + "/feeds/broken.xml",
	}, "\n")
	if err := os.WriteFile(f, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func testConfig(feeds, dir string) config {
	return config{feeds: feeds, dataDir: dir, store: filepath.Join(dir, "newsflow.db"), allowPrivate: true,
		interval: 2 * time.Second, workers: 2, replicas: 1, maxDeliver: 3, ackWait: 5 * time.Second, roles: []string{"ingest", "process", "store"}}
}

// testLog logs into the test's output, shown when a test fails or with -v.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// running is a pipeline running in the background of a test.
type running struct {
	*pipeline
	cancel context.CancelFunc
	done   chan error
}

func startPipeline(t *testing.T, cfg config) *running {
	t.Helper()
	p, err := newPipeline(t.Context(), cfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{pipeline: p, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.run(ctx) }()
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("pipeline ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pipeline did not stop within 30s")
	}
	r.close()
}

// eventually is checkFor for a condition that has no state to report.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	checkFor(t, 60*time.Second, func() error {
		if !cond() {
			return fmt.Errorf("waiting for %s", what)
		}
		return nil
	})
}

func streamCount(t *testing.T, b *bus.Bus, name string) uint64 {
	t.Helper()
	s, err := b.JetStream().Stream(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func readAll(t *testing.T, path string) map[string]process.Article {
	t.Helper()
	db, err := store.OpenSQLiteReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]process.Article{}
	err = db.Each(t.Context(), func(a process.Article) error {
		if _, dup := out[a.URL]; dup {
			t.Errorf("url %s stored twice", a.URL)
		}
		out[a.URL] = a
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPipelineEndToEnd runs the whole pipeline (ingest, process, store) on
// an embedded NATS server and SQLite against a local site.
func TestPipelineEndToEnd(t *testing.T) {
	site := newTestSite(t)
	dir := t.TempDir()
	cfg := testConfig(site.feedList(t), dir)
	const want = 6 // the 5 demo pages and the big page

	r := startPipeline(t, cfg)
	eventually(t, "6 articles stored", func() bool { return r.storedStats().Inserted == want })
	eventually(t, "the missing page parked", func() bool { return streamCount(t, r.bus, bus.StreamParked) == 1 })

	got := readAll(t, cfg.store)
	if len(got) != want {
		t.Fatalf("stored %d articles, want %d", len(got), want)
	}
	bridge, ok := got[site.URL+"/town/footbridge-reopens.html"]
	if !ok {
		t.Fatalf("footbridge article not stored under its canonical URL; have %v", keys(got))
	}
	checks := []struct {
		field, got, want string
	}{
		{"title", bridge.Title, "Larkford opens its rebuilt river footbridge"},
		{"link", bridge.Link, site.URL + "/town/footbridge-reopens.html?utm_source=rss&utm_medium=feed"},
		{"feed_url", bridge.FeedURL, site.URL + "/feeds/town.rss"},
		{"site_name", bridge.SiteName, "Larkford Gazette"},
		{"section", bridge.Section, "Town"},
		{"authors", strings.Join(bridge.Authors, ";"), "Anna Lindqvist"},
		{"published", bridge.Published.Format(time.RFC3339), "2026-03-02T07:15:00Z"},
		{"id", bridge.ID, process.ArticleID(bridge.URL)},
		{"extractor_version", bridge.ExtractorVersion, process.ExtractorVersion},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	paras := strings.Split(bridge.Text, "\n\n")
	if len(paras) != 4 || !strings.HasPrefix(paras[0], "The footbridge over the Lark reopened") {
		t.Errorf("text has %d paragraphs, want the 4 of the article:\n%s", len(paras), bridge.Text)
	}
	for _, junk := range []string{"Share on Facebook", "Related stories", "All rights reserved", "Mill Lane"} {
		if strings.Contains(bridge.Text, junk) {
			t.Errorf("text contains boilerplate %q", junk)
		}
	}
	if bridge.WordCount < 100 || bridge.ContentHash == "" {
		t.Errorf("word_count %d, content_hash %q", bridge.WordCount, bridge.ContentHash)
	}
	if big := got[site.URL+"/extra/minutes.html"]; !strings.Contains(big.Text, "Item 5999 of the minutes") {
		t.Errorf("the 1.5 MB page lost its end: %d words", big.WordCount)
	}

	// Publishing the same raw article again, under its own id or as a new
	// message (a redelivery after JetStream's duplicate window), and the
	// same record straight to the store's stream, still leaves one row.
	raw := rawOf(t, r.bus, "/town/footbridge-reopens.html")
	pub := rawPublisher{r.bus}
	if err := pub.PublishRaw(t.Context(), raw); err != nil {
		t.Fatal(err)
	}
	raw.ID += "-again"
	if err := pub.PublishRaw(t.Context(), raw); err != nil {
		t.Fatal(err)
	}
	data, err := process.EncodeArticle(bridge)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := r.bus.Publish(t.Context(), bus.ArticleSubject("town"), fmt.Sprintf("replay-%d", i), data); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the replayed record reaching the store", func() bool { return r.storedStats().Unchanged >= 2 })
	eventually(t, "processor idle", func() bool { return consumerIdle(t, r.bus, bus.StreamRaw, bus.ConsumerProcess) })
	eventually(t, "store idle", func() bool { return consumerIdle(t, r.bus, bus.StreamArticles, bus.ConsumerStore) })
	if st := r.storedStats(); st.Inserted != want || st.Updated != 0 {
		t.Errorf("after replays: %+v, want %d inserted and none updated", st, want)
	}
	hits := site.feedHits.Load()
	r.stop(t)

	// A restart on the same folder resumes: feeds are polled again, nothing
	// is stored twice.
	r = startPipeline(t, cfg)
	eventually(t, "every feed polled again", func() bool { return site.feedHits.Load() >= hits+5 })
	eventually(t, "processor idle", func() bool { return consumerIdle(t, r.bus, bus.StreamRaw, bus.ConsumerProcess) })
	eventually(t, "store idle", func() bool { return consumerIdle(t, r.bus, bus.StreamArticles, bus.ConsumerStore) })
	if st := r.storedStats(); st.Inserted != 0 || st.Updated != 0 {
		t.Errorf("after restart the store wrote %+v, want nothing", st)
	}
	// Each item once, the 410 page once, and the test's republish under a
	// new id; the republish under the item's own id was dropped.
	if n := streamCount(t, r.bus, bus.StreamRaw); n != want+2 {
		t.Errorf("NEWS_RAW holds %d messages, want %d", n, want+2)
	}
	r.stop(t)
	if got := readAll(t, cfg.store); len(got) != want {
		t.Errorf("after restart %d articles stored, want %d", len(got), want)
	}

	// The records stream rebuilds the database: the 6 articles once each
	// (the stream also holds the test's 2 replays of one record).
	rebuilt := filepath.Join(t.TempDir(), "rebuilt.db")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"replay", "articles", "--data", dir, "--store", rebuilt}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if want := "replayed 8 records: 6 inserted, 0 updated, 2 unchanged"; !strings.Contains(out.String(), want) {
		t.Errorf("replay articles said %q, want %q", out.String(), want)
	}
	if got := readAll(t, rebuilt); len(got) != want {
		t.Errorf("rebuilt database holds %d articles, want %d", len(got), want)
	}
	// The raw stream extracts again: every page but the missing one.
	out.Reset()
	if err := run(t.Context(), []string{"replay", "raw", "--data", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if want := "replayed 8 raw articles: 7 records published, 1 without a record"; !strings.Contains(out.String(), want) {
		t.Errorf("replay raw said %q, want %q", out.String(), want)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func consumerIdle(t testing.TB, b *bus.Bus, stream, consumer string) bool {
	c, err := b.JetStream().Consumer(t.Context(), stream, consumer)
	if err != nil {
		return false
	}
	info, err := c.Info(t.Context())
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0
}

// rawOf finds the raw article of the page whose URL ends with suffix.
func rawOf(t *testing.T, b *bus.Bus, suffix string) ingest.RawArticle {
	t.Helper()
	s, err := b.JetStream().Stream(t.Context(), bus.StreamRaw)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); ; seq++ {
		m, err := s.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatalf("no raw article for %s: %v", suffix, err)
		}
		if m.Header.Get(bus.HeaderPayloadObject) != "" {
			continue
		}
		raw, err := ingest.DecodeRaw(m.Data)
		if err != nil {
			t.Fatalf("raw message %d: %v", seq, err)
		}
		if strings.Contains(raw.URL, suffix) {
			return raw
		}
	}
}

// A stage that fails stops the others: newsflow exits with the error
// instead of running on without the stage.
func TestStageFailureStopsPipeline(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	cfg := testConfig("", dir)
	cfg.roles = []string{"process", "store"}
	cfg.httpAddr = taken.Addr().String()
	p, err := newPipeline(t.Context(), cfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	done := make(chan error, 1)
	go func() { done <- p.run(t.Context()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "--http") {
			t.Errorf("run = %v, want the status server's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pipeline kept running without its status server")
	}
}

// An item the feed marks as updated after publication is fetched again,
// and its record is updated in place: one row, the corrected text.
func TestEditedArticleUpdatesRecord(t *testing.T) {
	var edited atomic.Bool
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/feed.rss", func(w http.ResponseWriter, r *http.Request) {
		updated := ""
		if edited.Load() {
			updated = `<atom:updated>2026-05-01T11:00:00Z</atom:updated>`
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Valley</title>
<item><title>Bridge vote postponed</title><link>%s/bridge.html</link><guid>valley-9</guid><pubDate>Fri, 01 May 2026 09:00:00 GMT</pubDate>%s</item>
</channel></rss>`, srv.URL, updated)
	})
	mux.HandleFunc("/bridge.html", func(w http.ResponseWriter, r *http.Request) {
		outcome := "The council postponed its vote on the new footbridge until June, saying it needed more time to study the cost estimates submitted by the two bidders."
		if edited.Load() {
			outcome = "Correction: the council postponed its vote on the new footbridge until July, not June, to study the cost estimates submitted by the two bidders."
		}
		fmt.Fprintf(w, `<html lang="en"><head><title>Bridge vote postponed</title></head><body><article><h1>Bridge vote postponed</h1>
<p>%s</p><p>Residents who attended the meeting asked the council to publish the estimates before the vote, and the mayor agreed to do so by the end of the month.</p></article></body></html>`, outcome)
	})
	feeds := filepath.Join(t.TempDir(), "feeds.txt")
	os.WriteFile(feeds, []byte(srv.URL+"/feed.rss\n"), 0o644)
	cfg := testConfig(feeds, t.TempDir())
	r := startPipeline(t, cfg)
	defer r.stop(t)
	eventually(t, "the story stored", func() bool { return r.storedStats().Inserted == 1 })
	edited.Store(true)
	eventually(t, "the correction stored", func() bool { return r.storedStats().Updated == 1 })
	got := readAll(t, cfg.store)
	if len(got) != 1 {
		t.Fatalf("%d rows, want 1", len(got))
	}
	for _, a := range got {
		if !strings.Contains(a.Text, "until July, not June") {
			t.Errorf("stored text is not the corrected one: %q", a.Text)
		}
	}
}
