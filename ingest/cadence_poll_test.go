package ingest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// newsroom serves /feed.xml, the newest ten of the stories it has posted by
// the test clock, dated, and a page for each. It posts on a schedule the
// test sets: one story every gap from a given time on.
type newsroom struct {
	clock *fakeClock
	srv   *httptest.Server

	mu    sync.Mutex
	posts []time.Time // oldest first
	polls int
}

func newNewsroom(t *testing.T, clock *fakeClock) *newsroom {
	n := &newsroom{clock: clock}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, "<html><body><p>Dispatch %s from the newsroom.</p></body></html>", r.URL.Path)
			return
		}
		now := clock.Now()
		n.mu.Lock()
		n.polls++
		var shown []int
		for i := len(n.posts) - 1; i >= 0 && len(shown) < 10; i-- {
			if !n.posts[i].After(now) {
				shown = append(shown, i)
			}
		}
		n.mu.Unlock()
		etag := `"` + strconv.Itoa(len(shown)) + "-" + strconv.Itoa(shown[0]) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Newsroom</title>`)
		for _, i := range shown {
			fmt.Fprintf(&b, "<item><title>Dispatch %d</title><link>http://%s/d/%d</link><guid>d%d</guid><pubDate>%s</pubDate></item>",
				i, r.Host, i, i, n.posts[i].Format(time.RFC1123Z))
		}
		b.WriteString("</channel></rss>")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(n.srv.Close)
	return n
}

// post schedules count stories, one every gap from from on.
func (n *newsroom) post(from time.Time, gap time.Duration, count int) time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range count {
		n.posts = append(n.posts, from.Add(time.Duration(i)*gap))
	}
	return from.Add(time.Duration(count-1) * gap)
}

// TestPollingFollowsTheFeed: a feed that posts every 6 hours is polled
// every few hours; when it speeds up to a story every 4 minutes its
// interval comes down to minutes, and when it slows down to one every 12
// hours the interval grows back to hours. The test clock jumps to each

// cadencePoller returns a poller of feeds on clock with smart polling
// between a minute and a day around a 30-minute interval, and its state.
func cadencePoller(t *testing.T, clock *fakeClock, feeds ...Feed) (*Poller, *memState) {
	t.Helper()
	const m, h = time.Minute, time.Hour
	state := newMemState()
	p, err := NewPoller(PollerConfig{
		Feeds:       feeds,
		Client:      NewClient(ClientOptions{AllowPrivateNetworks: true}),
		Publisher:   &memPub{},
		State:       state,
		Seen:        newMemSeen(),
		Interval:    30 * m,
		MinInterval: m,
		MaxInterval: 24 * h,
		Jitter:      -1,
		Logger:      testLogger(t),
		Now:         clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, state
}

// poll's due time; the feed shows its newest ten stories, with their dates.
func TestPollingFollowsTheFeed(t *testing.T) {
	const m, h = time.Minute, time.Hour
	clock := &fakeClock{t: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	room := newNewsroom(t, clock)
	start := clock.Now()
	slowEnd := room.post(start.Add(-60*h), 6*h, 20) // 10 before the start, 10 after
	fastEnd := room.post(slowEnd.Add(6*h), 4*m, 60)
	room.post(fastEnd.Add(12*h), 12*h, 20)
	f, _ := NewFeed(room.srv.URL+"/feed.xml", "")
	p, state := cadencePoller(t, clock, f)
	type poll struct {
		at       time.Time
		interval time.Duration
	}
	var polls []poll
	for clock.Now().Before(fastEnd.Add(5 * 24 * h)) {
		pollDue(t, p)
		st := state.get(f.Token)
		if st.ErrorStreak != 0 {
			t.Fatalf("poll at %s failed: %s", clock.Now(), st.LastError)
		}
		polls = append(polls, poll{clock.Now(), st.NextDue.Sub(st.LastFetch)})
		clock.Advance(st.NextDue.Sub(clock.Now()))
		if len(polls) > 1000 {
			t.Fatalf("more than 1000 polls: %v", polls[len(polls)-5:])
		}
	}
	phase := func(from, to time.Time) (lo, hi time.Duration, n int) {
		for _, p := range polls {
			if !p.at.Before(from) && p.at.Before(to) {
				if n == 0 || p.interval < lo {
					lo = p.interval
				}
				hi = max(hi, p.interval)
				n++
			}
		}
		return lo, hi, n
	}
	// Every 6 hours: polled every 3 hours.
	if lo, hi, n := phase(start, slowEnd); lo < 2*h || hi > 6*h || n < 3 {
		t.Errorf("while the feed posts every 6h, %d polls at intervals from %s to %s, want 2h to 6h", n, lo, hi)
	}
	// Every 4 minutes: down to 2 once the newest stories show the pace.
	if lo, _, n := phase(slowEnd.Add(6*h), fastEnd); lo > 2*m || n < 10 {
		t.Errorf("while the feed posts every 4m, %d polls, the shortest interval %s, want 2m", n, lo)
	}
	// Quiet after the burst, then every 12 hours: back to hours.
	if _, hi, n := phase(fastEnd.Add(24*h), fastEnd.Add(5*24*h)); hi < 4*h || n < 3 {
		t.Errorf("once the feed posts every 12h, %d polls, the longest interval %s, want 4h or more", n, hi)
	}
	if last := polls[len(polls)-1]; last.interval < 4*h {
		t.Errorf("the last poll's interval is %s, want 4h or more: %v", last.interval, polls[len(polls)-5:])
	}
	t.Logf("%d polls for %d stories", len(polls), len(room.posts))
}

// TestPollingHonoursFeedHints: one poll of feeds each with one signal
// (ttl, sy:updatePeriod, skipHours, skipDays, Cache-Control max-age,
// Expires) and one with none: each next poll is where its signal puts it,
// the plain one an Interval later. A 304 keeps the feed's hints and honours
// the max-age it carries.
func TestPollingHonoursFeedHints(t *testing.T) {
	const m, h = time.Minute, time.Hour
	clock := &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)} // a Monday
	channel := map[string]string{
		"/ttl.xml":   "<ttl>120</ttl>",
		"/sy.xml":    "<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>",
		"/hours.xml": "<skipHours><hour>10</hour><hour>11</hour><hour>12</hour></skipHours>",
		"/days.xml":  "<skipDays><day>Monday</day></skipDays>",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cache.xml":
			w.Header().Set("Cache-Control", "public, max-age=5400")
		case "/expires.xml":
			w.Header().Set("Date", clock.Now().Format(http.TimeFormat))
			w.Header().Set("Expires", clock.Now().Add(3*h).Format(http.TimeFormat))
		}
		w.Header().Set("ETag", `"one"`)
		if r.Header.Get("If-None-Match") == `"one"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel><title>Hints</title>%s</channel></rss>`, channel[r.URL.Path])
	}))
	t.Cleanup(srv.Close)
	want := map[string]time.Duration{
		"/plain.xml": 30 * m, "/ttl.xml": 2 * h, "/sy.xml": 12 * h, "/hours.xml": 3 * h, "/days.xml": 14 * h,
		"/cache.xml": 90 * m, "/expires.xml": 3 * h,
	}
	var feeds []Feed
	for path := range want {
		f, _ := NewFeed(srv.URL+path, strings.Trim(path[:len(path)-4], "/"))
		feeds = append(feeds, f)
	}
	p, state := cadencePoller(t, clock, feeds...)
	check := func(when string, want map[string]time.Duration) {
		t.Helper()
		for _, f := range feeds {
			path := strings.TrimPrefix(f.URL, srv.URL)
			d, ok := want[path]
			if !ok {
				continue
			}
			st := state.get(f.Token)
			if st.ErrorStreak != 0 {
				t.Errorf("%s %s: %s", when, path, st.LastError)
			}
			if got := st.NextDue.Sub(st.LastFetch); got != d {
				t.Errorf("%s %s: next poll in %s, want %s", when, path, got, d)
			}
		}
	}
	pollDue(t, p)
	check("first poll:", want)
	// Two hours on, the plain feed (due twice) and the cached feed and the
	// one with a ttl are due: at 304 the cache header and the ttl still
	// hold; the plain feed keeps its 30 minutes.
	for range 4 {
		clock.Advance(30 * m)
		pollDue(t, p)
	}
	if st := p.Stats(); st.FeedsNotModified != 6 {
		t.Errorf("%d polls answered 304, want 6 (plain 4 times, cache and ttl once): %+v", st.FeedsNotModified, st)
	}
	check("at 304:", map[string]time.Duration{"/plain.xml": 30 * m, "/ttl.xml": 2 * h, "/cache.xml": 90 * m})
}
