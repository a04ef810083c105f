package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// feedSetup is a feed registry on a real embedded NATS, with the store s.
type feedSetup struct {
	bus   *bus.Bus
	reg   *bus.FeedRegistry
	state *bus.FeedStateKV
	feeds Feeds
}

func newFeedSetup(t *testing.T, s store.Store) feedSetup {
	t.Helper()
	b, err := bus.Connect(t.Context(), bus.Options{DataDir: t.TempDir(), SweepEvery: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	reg, err := b.FeedRegistry(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	state, _, err := b.FeedStores(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return feedSetup{bus: b, reg: reg, state: state, feeds: Feeds{Registry: reg, States: state, Parked: b, Counts: s,
		Finder: ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: true})}}
}

// harbourSite serves a site whose home page links to its RSS feed, a page
// that links to none, and nothing else.
func harbourSite(t *testing.T) *httptest.Server {
	rss, err := os.ReadFile(filepath.Join("..", "..", "..", "ingest", "testdata", "feeds", "gazette.rss"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<!doctype html><html><head><title>Harbour Gazette</title>
<link rel="alternate" type="application/rss+xml" title="All stories" href="/news.rss"></head>
<body><p>The quay reopens on Monday.</p></body></html>`)
		case "/news.rss":
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(rss)
		case "/about":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html><head><title>About us</title></head><body>A small paper.</body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// call sends method path with body and decodes the JSON answer into v
// (unless nil), checking the status.
func call(t *testing.T, srv *httptest.Server, method, path, body string, status int, v any) http.Header {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, data)
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.Header
}

func TestFeedsAPI(t *testing.T) {
	for name, open := range map[string]func(*testing.T) store.Store{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			fs := newFeedSetup(t, s)
			// Changing the feeds always needs the token.
			h := New(s, testToken, slog.New(slog.NewTextHandler(io.Discard, nil)))
			h.ServeFeeds(fs.feeds)
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			site := harbourSite(t)
			testFeedsAPI(t, srv, site, fs, s)
		})
	}
}

func testFeedsAPI(t *testing.T, srv, site *httptest.Server, fs feedSetup, s store.Store) {
	ctx := t.Context()
	// Added by the site's address: its feed is found through the page.
	var added addedFeed
	hdr := call(t, srv, "POST", "/api/v1/feeds", `{"url": "`+site.URL+`/"}`, http.StatusCreated, &added)
	if added.URL != site.URL+"/news.rss" || added.Title == "" || len(added.Discovered) != 1 || added.Paused {
		t.Fatalf("added by site: %+v", added)
	}
	if hdr.Get("Location") != "/api/v1/feeds/"+added.Token {
		t.Errorf("Location %q", hdr.Get("Location"))
	}
	token := added.Token

	for _, tt := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"url": "` + site.URL + `/news.rss"}`, http.StatusConflict, "already registered"},
		{`{"url": "ftp://harbour.example.org/news"}`, http.StatusBadRequest, "bad feed URL"},
		{`{"url": ""}`, http.StatusBadRequest, "url: missing"},
		{`{"link": "x"}`, http.StatusBadRequest, "body"},
		{`not json`, http.StatusBadRequest, "body"},
		{`{"url": "` + site.URL + `/about"}`, http.StatusUnprocessableEntity, "not a feed"},
		{`{"url": "` + site.URL + `/gone.rss"}`, http.StatusBadGateway, "404"},
	} {
		var e apiError
		call(t, srv, "POST", "/api/v1/feeds", tt.body, tt.status, &e)
		if e.Status != tt.status || !strings.Contains(e.Error, tt.want) {
			t.Errorf("POST %s: %+v, want %d naming %q", tt.body, e, tt.status, tt.want)
		}
	}

	// Health from the fetch state, the store and the parked stream.
	fetched := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	if _, err := fs.state.SaveFeedState(ctx, token, ingest.FeedState{URL: added.URL, LastFetch: fetched, LastSuccess: fetched.Add(-time.Hour),
		NextDue: fetched.Add(15 * time.Minute), ErrorStreak: 2, LastError: "503 Service Unavailable", Items: 3, ItemsPublished: 5}, 0); err != nil {
		t.Fatal(err)
	}
	a, b := article("quay", 1, "Quay reopens", "The quay reopened."), article("notes", 2, "Notes", "")
	a.Feed, b.Feed, a.WordCount, b.WordCount = token, token, 3, 0
	if _, err := s.Upsert(ctx, []process.Article{a, b}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"extract: " + process.ErrNoContent.Error(), "page was not served: 404"} {
		m := nats.NewMsg("news.parked.process")
		m.Header.Set(bus.HeaderSubject, bus.RawSubject(token))
		m.Header.Set(bus.HeaderError, e)
		if _, err := fs.bus.JetStream().PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	var one FeedHealth
	call(t, srv, "GET", "/api/v1/feeds/"+token, "", http.StatusOK, &one)
	if one.ArticlesStored == nil || *one.ArticlesStored != 2 || one.PagesParked != 2 || one.NoTextShare == nil || *one.NoTextShare != 0.5 ||
		one.ErrorStreak != 2 || one.LastError == "" || !one.LastFetch.Equal(fetched) || one.ItemsSeen != 3 || one.ItemsPublished != 5 ||
		!one.NextPoll.Equal(fetched.Add(15*time.Minute)) {
		t.Errorf("health: %+v (stored %v, no text %v)", one, deref(one.ArticlesStored), deref(one.NoTextShare))
	}
	var e apiError
	call(t, srv, "GET", "/api/v1/feeds/no-such-feed", "", http.StatusNotFound, &e)

	// Pause, resume, and the list shows it.
	var rec ingest.FeedRecord
	call(t, srv, "POST", "/api/v1/feeds/"+token+"/pause", "", http.StatusOK, &rec)
	if !rec.Paused {
		t.Errorf("after pause: %+v", rec)
	}
	var list struct{ Feeds []FeedHealth }
	call(t, srv, "GET", "/api/v1/feeds", "", http.StatusOK, &list)
	if len(list.Feeds) != 1 || !list.Feeds[0].Paused || !list.Feeds[0].NextPoll.IsZero() {
		t.Errorf("list after pause: %+v", list.Feeds)
	}
	rec = ingest.FeedRecord{}
	call(t, srv, "POST", "/api/v1/feeds/"+token+"/resume", "", http.StatusOK, &rec)
	if rec.Paused {
		t.Errorf("after resume: %+v", rec)
	}
	call(t, srv, "POST", "/api/v1/feeds/no-such-feed/pause", "", http.StatusNotFound, &e)

	// Export, remove, and import the export: the feed is back.
	req, err := http.NewRequest("GET", srv.URL+"/api/v1/feeds.opml", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	opml, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/x-opml") {
		t.Fatalf("export: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	exported, err := ingest.ReadFeedList(strings.NewReader(string(opml)))
	if err != nil || len(exported) != 1 || exported[0].URL != added.URL || exported[0].Title != added.Title {
		t.Fatalf("export reads back as %+v, %v:\n%s", exported, err, opml)
	}
	call(t, srv, "DELETE", "/api/v1/feeds/"+token, "", http.StatusOK, &rec)
	call(t, srv, "DELETE", "/api/v1/feeds/"+token, "", http.StatusNotFound, &e)
	call(t, srv, "GET", "/api/v1/feeds", "", http.StatusOK, &list)
	if len(list.Feeds) != 0 {
		t.Errorf("list after delete: %+v", list.Feeds)
	}
	more := strings.Replace(string(opml), "</body>", `<outline text="Courier" xmlUrl="https://courier.example.org/atom"/></body>`, 1)
	var res importResult
	call(t, srv, "POST", "/api/v1/feeds/import", more, http.StatusOK, &res)
	if len(res.Added) != 2 || res.Existing != 0 {
		t.Errorf("import: %+v", res)
	}
	call(t, srv, "POST", "/api/v1/feeds/import", more, http.StatusOK, &res)
	if len(res.Added) != 0 || res.Existing != 2 {
		t.Errorf("import again: %+v", res)
	}
	call(t, srv, "POST", "/api/v1/feeds/import", "<opml><body><outline xmlUrl='ftp://x'/></body></opml>", http.StatusBadRequest, &e)
	if !strings.Contains(e.Error, "line 1") || !strings.Contains(e.Error, "ftp") {
		t.Errorf("bad import: %+v", e)
	}
	call(t, srv, "POST", "/api/v1/feeds/import", "<opml><body></body></opml>", http.StatusBadRequest, &e)

	// Wrong methods name the right ones.
	hdr = call(t, srv, "PUT", "/api/v1/feeds/"+token, "", http.StatusMethodNotAllowed, &e)
	if hdr.Get("Allow") != "GET, DELETE" {
		t.Errorf("PUT a feed: Allow %q", hdr.Get("Allow"))
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestFeedsNeedToken: with a token, no feed request goes through without
// it, reading or changing.
func TestFeedsNeedToken(t *testing.T) {
	s := openSQLite(t)
	fs := newFeedSetup(t, s)
	const token = "a-token-long-enough-0123"
	h := New(s, token, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.ServeFeeds(fs.feeds)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	site := harbourSite(t)
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/feeds", `{"url": "` + site.URL + `/news.rss"}`},
		{"POST", "/api/v1/feeds/import", "<opml><body><outline xmlUrl='https://a.example.org/rss'/></body></opml>"},
		{"GET", "/api/v1/feeds", ""},
	} {
		var e apiError
		call(t, srv, r.method, r.path, r.body, http.StatusUnauthorized, &e)
	}
	if feeds, err := fs.reg.Feeds(t.Context()); err != nil || len(feeds) != 0 {
		t.Errorf("feeds registered without the token: %v %v", feeds, err)
	}
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/feeds", strings.NewReader(`{"url": "`+site.URL+`/news.rss"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("with the token: status %d, want 201", resp.StatusCode)
	}
}
