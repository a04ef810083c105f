package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsflow/newsflow/ingest/fault"
)

// harbour is a news site for the politeness tests: a feed at /feed.xml
// listing the pages of items (set with setItems), a robots.txt set with
// setRobots, and pages that answer with the status set with setPage. It
// records every request.
type harbour struct {
	srv *httptest.Server

	mu       sync.Mutex
	items    []string
	robots   string
	robotsCC string // its Cache-Control
	pages    map[string]pageAnswer
	reqs     []request
}

type pageAnswer struct {
	status     int
	retryAfter string
}

type request struct {
	path string
	ua   string
	at   time.Time
}

func newHarbour(t *testing.T) *harbour {
	h := &harbour{pages: map[string]pageAnswer{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harbour) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.reqs = append(h.reqs, request{path: r.URL.RequestURI(), ua: r.UserAgent(), at: time.Now()})
	items := slices.Clone(h.items)
	robots, cc := h.robots, h.robotsCC
	page := h.pages[r.URL.Path]
	h.mu.Unlock()
	switch {
	case page.status != 0:
		if page.retryAfter != "" {
			w.Header().Set("Retry-After", page.retryAfter)
		}
		http.Error(w, "the harbour office is closed for lunch", page.status)
	case r.URL.Path == "/feed.xml":
		// No validators: the feed is read again at each poll.
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Notes</title>`)
		for _, it := range items {
			fmt.Fprintf(w, "<item><title>Notes %s</title><link>%s%s</link><guid>%s</guid></item>", it, h.srv.URL, it, it)
		}
		fmt.Fprint(w, "</channel></rss>")
	case r.URL.Path == "/robots.txt":
		if robots == "" {
			http.NotFound(w, r)
			return
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		fmt.Fprint(w, robots)
	default:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<html><body><p>The pilot boat went out at dawn (%s).</p></body></html>", r.URL.Path)
	}
}

func (h *harbour) setItems(paths ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.items = paths
}

func (h *harbour) setRobots(body, cacheControl string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.robots, h.robotsCC = body, cacheControl
}

func (h *harbour) setPage(path string, a pageAnswer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pages[path] = a
}

func (h *harbour) requests() []request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.reqs)
}

func (h *harbour) hits(path string) int {
	n := 0
	for _, r := range h.requests() {
		if r.path == path {
			n++
		}
	}
	return n
}

// politePoller is a poller of the harbour's feed with in-memory stores.
func politePoller(t *testing.T, site *harbour, clock *fakeClock, pub *memPub, seen *memSeen, tweak func(*PollerConfig)) *Poller {
	t.Helper()
	f, err := NewFeed(site.srv.URL+"/feed.xml", "harbour")
	if err != nil {
		t.Fatal(err)
	}
	cfg := PollerConfig{
		Feeds:     []Feed{f},
		Client:    NewClient(ClientOptions{AllowPrivateNetworks: true, Timeout: 10 * time.Second}),
		Publisher: pub,
		State:     newMemState(),
		Seen:      seen,
		Interval:  testInterval,
		Jitter:    -1,
		Logger:    testLogger(t),
		Now:       clock.Now,
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

func TestRobotsRefusesPage(t *testing.T) {
	site := newHarbour(t)
	site.setRobots("User-agent: *\nDisallow: /drafts/\n\nUser-agent: otherbot\nDisallow: /\n", "")
	site.setItems("/news/pilot", "/drafts/secret")
	clock := &fakeClock{t: time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)}
	pub, seen := &memPub{}, newMemSeen()
	p := politePoller(t, site, clock, pub, seen, nil)
	for range 2 {
		pollDue(t, p)
		clock.Advance(testInterval)
	}
	if n := site.hits("/drafts/secret"); n != 0 {
		t.Errorf("a page robots.txt disallows was fetched %d times", n)
	}
	if n := site.hits("/robots.txt"); n != 1 {
		t.Errorf("robots.txt fetched %d times in two polls, want once (cached)", n)
	}
	if n := site.hits("/news/pilot"); n != 1 {
		t.Errorf("allowed page fetched %d times, want 1", n)
	}
	got := map[string][]RawArticle{}
	for _, a := range pub.articles() {
		got[a.URL] = append(got[a.URL], a)
	}
	refused := got[site.srv.URL+"/drafts/secret"]
	if len(refused) != 1 {
		t.Fatalf("refused item published %d times over two polls, want once", len(refused))
	}
	want := "refused by robots.txt: " + site.srv.URL + "/drafts/secret"
	if refused[0].FetchError != want || len(refused[0].Body) != 0 {
		t.Errorf("refused item published with error %q and %d bytes, want %q and none", refused[0].FetchError, len(refused[0].Body), want)
	}
	if ok, _ := seen.Seen(context.Background(), refused[0].ID); !ok {
		t.Error("refused item not marked seen: it would be tried again at every poll")
	}
	if a := got[site.srv.URL+"/news/pilot"]; len(a) != 1 || a[0].FetchError != "" {
		t.Errorf("allowed item: %+v", a)
	}
	if s := p.Stats(); s.PagesDisallowed != 1 {
		t.Errorf("PagesDisallowed = %d, want 1", s.PagesDisallowed)
	}
}

func TestRobotsCheckErrorClasses(t *testing.T) {
	site := newHarbour(t)
	site.setRobots("User-agent: newsflow\nDisallow: /private\n", "")
	clock := &fakeClock{t: time.Now()}
	p := politePoller(t, site, clock, &memPub{}, newMemSeen(), nil)
	ctx := context.Background()
	err := p.robots.check(ctx, site.srv.URL+"/private/minutes?page=2")
	if !errors.Is(err, ErrRobotsDisallowed) || !fault.IsPermanent(err) {
		t.Errorf("disallowed page: %v (class %v), want ErrRobotsDisallowed, permanent", err, fault.Of(err))
	}
	if err := p.robots.check(ctx, site.srv.URL+"/public/minutes"); err != nil {
		t.Errorf("allowed page: %v", err)
	}

	// A robots.txt that cannot be had closes the site for a while.
	down := newHarbour(t)
	down.setPage("/robots.txt", pageAnswer{status: http.StatusInternalServerError})
	err = p.robots.check(ctx, down.srv.URL+"/news/x")
	if !errors.Is(err, ErrRobotsUnavailable) || !fault.IsTemporary(err) || errors.Is(err, errNotSent) {
		t.Errorf("robots.txt answering 500: %v (class %v), want ErrRobotsUnavailable, temporary, an attempt", err, fault.Of(err))
	}
	down.setPage("/robots.txt", pageAnswer{})
	// Still closed, from the cache: not an attempt of the page.
	if err := p.robots.check(ctx, down.srv.URL+"/news/x"); !errors.Is(err, ErrRobotsUnavailable) || !errors.Is(err, errNotSent) {
		t.Errorf("within RobotsMinAge of the 500: %v, want the site still closed, no attempt", err)
	}
	if n := down.hits("/robots.txt"); n != 1 {
		t.Errorf("robots.txt asked %d times within RobotsMinAge, want once", n)
	}
	clock.Advance(DefaultRobotsMinAge)
	if err := p.robots.check(ctx, down.srv.URL+"/news/x"); err != nil {
		t.Errorf("after RobotsMinAge, robots.txt back (404): %v, want allowed", err)
	}
}

func TestRobotsChangeAppliesAfterExpiry(t *testing.T) {
	site := newHarbour(t)
	// Fresh for 15 minutes; polls come every 10.
	site.setRobots("User-agent: *\nDisallow: /east/\n", "public, max-age=900")
	clock := &fakeClock{t: time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)}
	pub := &memPub{}
	p := politePoller(t, site, clock, pub, newMemSeen(), nil)

	site.setItems("/east/1", "/west/1")
	pollDue(t, p) // 08:00, rules fetched: east closed
	site.setRobots("User-agent: *\nDisallow: /west/\n", "public, max-age=900")
	site.setItems("/east/1", "/west/1", "/east/2", "/west/2")
	clock.Advance(testInterval)
	pollDue(t, p) // 08:10, the old rules still hold
	site.setItems("/east/1", "/west/1", "/east/2", "/west/2", "/east/3", "/west/3")
	clock.Advance(testInterval)
	pollDue(t, p) // 08:20, past 08:15: the new rules

	refused := map[string]bool{}
	for _, a := range pub.articles() {
		refused[strings.TrimPrefix(a.URL, site.srv.URL)] = a.FetchError != ""
	}
	want := map[string]bool{"/east/1": true, "/west/1": false, "/east/2": true, "/west/2": false, "/east/3": false, "/west/3": true}
	for path, r := range want {
		if got, ok := refused[path]; !ok || got != r {
			t.Errorf("%s: published %v, refused %v; want refused %v", path, ok, got, r)
		}
	}
	if n := site.hits("/robots.txt"); n != 2 {
		t.Errorf("robots.txt fetched %d times, want 2 (once, then after it expired)", n)
	}
}

func TestCrawlDelaySpacesRequests(t *testing.T) {
	const delay = 150 * time.Millisecond
	site := newHarbour(t)
	site.setRobots("User-agent: *\nCrawl-delay: 0.15\n", "")
	site.setItems("/quay/1", "/quay/2", "/quay/3", "/quay/4")
	clock := &fakeClock{t: time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)}
	pub := &memPub{}
	p := politePoller(t, site, clock, pub, newMemSeen(), func(c *PollerConfig) { c.PerHost = 1 })
	pollDue(t, p)
	if n := len(pub.articles()); n != 4 {
		t.Fatalf("published %d articles, want 4", n)
	}
	// Every request after robots.txt was read keeps the Crawl-delay from
	// the one before (with one in flight, from its end).
	reqs := site.requests()
	i := slices.IndexFunc(reqs, func(r request) bool { return r.path == "/robots.txt" })
	if i < 0 || len(reqs) != i+5 {
		t.Fatalf("requests %v: want robots.txt then the four pages", reqs)
	}
	for j := i + 2; j < len(reqs); j++ {
		if gap := reqs[j].at.Sub(reqs[j-1].at); gap < delay {
			t.Errorf("%s came %s after %s, want at least the Crawl-delay %s", reqs[j].path, gap, reqs[j-1].path, delay)
		}
	}
}

func TestPageRetryAfterHoldsHostBack(t *testing.T) {
	site := newHarbour(t)
	site.setItems("/tide/1")
	site.setPage("/tide/1", pageAnswer{status: http.StatusServiceUnavailable, retryAfter: "1"})
	clock := &fakeClock{t: time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)}
	pub := &memPub{}
	p := politePoller(t, site, clock, pub, newMemSeen(), func(c *PollerConfig) { c.MaxPageAttempts = 5 })
	pollDue(t, p)
	reqs := site.requests()
	if last := reqs[len(reqs)-1]; last.path != "/tide/1" {
		t.Fatalf("last request %s, want the page", last.path)
	}
	answered := reqs[len(reqs)-1].at
	site.setPage("/tide/1", pageAnswer{})

	// The host said to wait a second: the polls in that second send
	// nothing to it, the feed included; the page comes after.
	waitFor(t, "the page fetched after the host's wait", func() bool {
		clock.Advance(p.cfg.MaxBackoff) // past the feed's backoff
		pollDue(t, p)
		return len(pub.articles()) == 1
	})
	for _, r := range site.requests()[len(reqs):] {
		if r.at.Sub(answered) < time.Second {
			t.Errorf("%s requested %s after the 503, within its Retry-After of 1s", r.path, r.at.Sub(answered))
		}
	}
	if a := pub.articles()[0]; a.FetchError != "" || a.Status != http.StatusOK {
		t.Errorf("page published with status %d, error %q; want it fetched", a.Status, a.FetchError)
	}
}

func TestUserAgentOnEveryRequest(t *testing.T) {
	const ua = "saltmere-reader/2.1 (+https://saltmere.example/bot)"
	site := newHarbour(t)
	site.setRobots("User-agent: saltmere-reader\nDisallow: /closed/\n", "")
	site.setItems("/open/1", "/closed/1")
	clock := &fakeClock{t: time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)}
	pub := &memPub{}
	p := politePoller(t, site, clock, pub, newMemSeen(), func(c *PollerConfig) {
		c.Client = NewClient(ClientOptions{AllowPrivateNetworks: true, UserAgent: ua})
	})
	pollDue(t, p)
	a := RawArticle{ID: "x", URL: site.srv.URL + "/open/1"}
	if _, err := Refetch(context.Background(), p.client, a); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range site.requests() {
		paths = append(paths, r.path)
		if r.ua != ua {
			t.Errorf("%s sent User-Agent %q, want %q", r.path, r.ua, ua)
		}
	}
	slices.Sort(paths)
	if want := []string{"/feed.xml", "/open/1", "/open/1", "/robots.txt"}; !slices.Equal(paths, want) {
		t.Errorf("requests %v, want %v (the closed page refused for the agent's own group)", paths, want)
	}
}

func TestCheckUserAgent(t *testing.T) {
	for _, ua := range []string{
		"newsflow/1 (+https://github.com/newsflow/newsflow)",
		"newsflow/dev (+https://github.com/newsflow/newsflow)",
		"harbour-bot/0.3 (compatible; +http://harbour.example/about-our-bot; ops@harbour.example)",
		"Saltmere_Reader/2.0.1 https://saltmere.example/",
	} {
		if err := CheckUserAgent(ua); err != nil {
			t.Errorf("CheckUserAgent(%q): %v", ua, err)
		}
	}
	for ua, want := range map[string]string{
		"":                                       "empty",
		"newsflow":                               "product and version",
		"newsflow/1":                             "contact URL",
		"newsflow/1 (ops@harbour.example)":       "contact URL",
		"newsflow/1 (+ftp://harbour.example/)":   "contact URL",
		"/1 (+https://harbour.example/)":         "product and version",
		"news flow/1 (+https://harbour.example)": "product and version",
		"newsflow/1 (+https://harbour.example)\r\nX-Evil: 1":                     "printable ASCII",
		"newsflow/1 (+https://hårbour.example)":                                  "printable ASCII",
		"newsflow/1 (+https://harbour.example/" + strings.Repeat("a", 300) + ")": "more than 256",
	} {
		err := CheckUserAgent(ua)
		if !errors.Is(err, ErrUserAgent) || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckUserAgent(%q) = %v, want an error saying %q", ua, err, want)
		}
	}
}

func FuzzCheckUserAgent(f *testing.F) {
	f.Add("newsflow/1 (+https://github.com/newsflow/newsflow)")
	f.Add("x/y http://h")
	f.Add("newsflow/1 (+https://[::1]:80/)")
	f.Fuzz(func(t *testing.T, ua string) {
		if CheckUserAgent(ua) != nil {
			return
		}
		// A User-Agent taken must be safe to send as it is.
		req, err := http.NewRequest(http.MethodGet, "http://harbour.example/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("User-Agent", ua)
		if strings.ContainsAny(ua, "\r\n\x00") || len(ua) > maxUserAgent || robotsAgent(ua) == "" {
			t.Errorf("CheckUserAgent took %q", ua)
		}
	})
}

func TestCacheLifetime(t *testing.T) {
	now := time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)
	date := now.Format(http.TimeFormat)
	for _, tt := range []struct {
		header map[string]string
		want   time.Duration
		ok     bool
	}{
		{nil, 0, false},
		{map[string]string{"Cache-Control": "public, max-age=3600"}, time.Hour, true},
		{map[string]string{"Cache-Control": `max-age="60"`}, time.Minute, true},
		{map[string]string{"Cache-Control": "no-cache"}, 0, true},
		{map[string]string{"Cache-Control": "max-age=3600, no-store"}, 0, true},
		{map[string]string{"Cache-Control": "max-age=soon"}, 0, false},
		{map[string]string{"Cache-Control": "max-age=99999999999999999999"}, 0, false},
		{map[string]string{"Cache-Control": "public", "Expires": now.Add(2 * time.Hour).Format(http.TimeFormat), "Date": date}, 2 * time.Hour, true},
		{map[string]string{"Expires": now.Add(time.Hour).Format(http.TimeFormat)}, time.Hour, true},
		{map[string]string{"Expires": "0"}, 0, true},
		{map[string]string{"Expires": now.Add(-time.Hour).Format(http.TimeFormat), "Date": date}, 0, true},
		{map[string]string{"Cache-Control": "max-age=60", "Expires": now.Add(time.Hour).Format(http.TimeFormat)}, time.Minute, true},
	} {
		h := http.Header{}
		for k, v := range tt.header {
			h.Set(k, v)
		}
		got, ok := cacheLifetime(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("cacheLifetime(%v) = %s, %v; want %s, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzCacheLifetime(f *testing.F) {
	f.Add("public, max-age=3600", "Sat, 07 Mar 2026 09:00:00 GMT", "Sat, 07 Mar 2026 08:00:00 GMT")
	f.Add("no-store", "0", "")
	f.Add(`max-age="-1", s-maxage=5`, "", "garbage")
	f.Fuzz(func(t *testing.T, cc, expires, date string) {
		h := http.Header{"Cache-Control": {cc}, "Expires": {expires}, "Date": {date}}
		d, _ := cacheLifetime(h, time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC))
		if d < 0 {
			t.Errorf("negative lifetime %s for %v", d, h)
		}
	})
}

func TestParseRobotsDropsLinesOutOfPlace(t *testing.T) {
	// A rule before any User-agent and a Crawl-delay in words make the
	// parser refuse the whole file; the rest still holds.
	body := "Disallow: /stray\nUser-agent: *\nCrawl-delay: two seconds\nDisallow: /archive/\n"
	g := parseRobots([]byte(body)).FindGroup("newsflow")
	if g.Test("/archive/1990") || !g.Test("/stray") || !g.Test("/news/today") {
		t.Errorf("rules read from %q are wrong", body)
	}
	if g := parseRobots([]byte("User-agent: *\nCrawl-delay: 2.5\n")).FindGroup("newsflow"); g.CrawlDelay != 2500*time.Millisecond {
		t.Errorf("Crawl-delay read as %s, want 2.5s", g.CrawlDelay)
	}
}

func FuzzParseRobots(f *testing.F) {
	f.Add("User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n", "/private/x")
	f.Add("Disallow: /x\nUser-agent: newsflow\nAllow: /x/y\nCrawl-delay: -1\n", "/x/y")
	f.Add("User-agent: *\nDisallow: /*.pdf$\n", "/a.pdf?x=1")
	f.Fuzz(func(t *testing.T, body, path string) {
		r := parseRobots([]byte(body))
		if r == nil {
			t.Fatal("parseRobots returned nil")
		}
		r.FindGroup("newsflow").Test(path)
	})
}
