package ingest

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestNextPoll(t *testing.T) {
	const m, h, day = time.Minute, time.Hour, 24 * time.Hour
	from := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) // a Monday
	b := PollBounds{Interval: 15 * m, Min: m, Max: day}
	dated := func(gap, since time.Duration) Cadence {
		return Cadence{ItemGap: gap, LastItem: from.Add(-since)}
	}
	polls := func(n int, every time.Duration, news ...int) Cadence {
		var c Cadence
		for i := range n {
			c.Polls = append(c.Polls, PollNote{At: from.Add(-time.Duration(n-1-i) * every)})
		}
		for i, k := range news { // the newest polls' news, oldest first
			c.Polls[n-len(news)+i].New = k
		}
		return c
	}
	hinted := func(c Cadence, hints FeedHints) Cadence { c.FeedHints = hints; return c }
	for _, tc := range []struct {
		name string
		b    PollBounds
		s    FeedSignals
		want time.Duration // after from
		why  string
	}{
		{"no signals: the interval", b, FeedSignals{}, 15 * m, "interval"},
		{"posts every 4 minutes", b, FeedSignals{Cadence: dated(4*m, 2*m)}, 2 * m, "posts"},
		{"posts every 30 s: the minimum", b, FeedSignals{Cadence: dated(30*time.Second, 0)}, m, "posts (min)"},
		{"a weekly blog: the maximum", b, FeedSignals{Cadence: dated(7*day, 2*day)}, day, "posts (max)"},
		{"a blog posting every 6 hours", b, FeedSignals{Cadence: dated(6*h, h)}, 3 * h, "posts"},
		{"a fast feed gone quiet for 3 hours", b, FeedSignals{Cadence: dated(5*m, 3*h)}, 45 * m, "posts"},
		{"library default bounds keep the interval", PollBounds{15 * m, 15 * m, 15 * m}, FeedSignals{Cadence: dated(4*m, 0)}, 15 * m, "posts (min)"},
		{"ttl", b, FeedSignals{Cadence: hinted(Cadence{}, FeedHints{TTL: h})}, h, "ttl"},
		{"ttl over fast posts", b, FeedSignals{Cadence: hinted(dated(4*m, 0), FeedHints{TTL: h})}, h, "ttl"},
		{"ttl under the interval", b, FeedSignals{Cadence: hinted(Cadence{}, FeedHints{TTL: 5 * m})}, 15 * m, "interval"},
		{"ttl past the maximum", b, FeedSignals{Cadence: hinted(Cadence{}, FeedHints{TTL: 48 * h})}, day, "ttl (max)"},
		{"sy:updatePeriod", b, FeedSignals{Cadence: hinted(Cadence{}, FeedHints{UpdatePeriod: 30 * m})}, 30 * m, "sy:updatePeriod"},
		{"cache-control or expires", b, FeedSignals{Fresh: 40 * m}, 40 * m, "cache"},
		{"a short max-age does not hurry", b, FeedSignals{Fresh: 5 * m}, 15 * m, "interval"},
		{"skip hours", b, FeedSignals{Cadence: hinted(Cadence{}, FeedHints{SkipHours: []int{10, 11}})}, 2 * h, "interval (skip)"},
		{"an hour not skipped", b, FeedSignals{Cadence: hinted(Cadence{}, FeedHints{SkipHours: []int{9, 12}})}, 15 * m, "interval"},
		{"skip Monday", b, FeedSignals{Cadence: hinted(Cadence{}, FeedHints{SkipDays: []time.Weekday{time.Monday}})}, 14 * h, "interval (skip)"},
		{"skipping past the maximum", b, FeedSignals{Cadence: hinted(Cadence{}, FeedHints{SkipDays: []time.Weekday{time.Monday, time.Tuesday}})}, day, "interval (skip)"},
		{"undated, too few polls", b, FeedSignals{Cadence: polls(5, 15*m)}, 15 * m, "interval"},
		{"undated, news in each of the last 4 polls", b, FeedSignals{Cadence: polls(5, 15*m, 2, 2, 2, 2)}, 3*m + 45*time.Second, "posts"},
		{"undated, one new item in 16 polls", b, FeedSignals{Cadence: polls(16, 15*m, 1)}, 225 * m / 2, "posts"},
		{"undated, the oldest poll's news does not count", b, FeedSignals{Cadence: polls(5, 15*m, 20, 0, 0, 0, 0)}, 15 * m, "interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, why := NextPoll(tc.b, tc.s, from)
			if got := next.Sub(from); got != tc.want || why != tc.why {
				t.Errorf("next poll in %s by %q, want %s by %q", got, why, tc.want, tc.why)
			}
		})
	}
}

func TestItemGap(t *testing.T) {
	at := func(hours ...int) []time.Time {
		var out []time.Time
		for _, h := range hours {
			out = append(out, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(h)*time.Hour))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		dates []time.Time
		gap   time.Duration
		last  int // hours, when gap > 0
	}{
		{"none", nil, 0, 0},
		{"two dates", at(1, 2), 0, 0},
		{"repeats count once", at(5, 5, 5, 4), 0, 0},
		{"median gap, any order", at(10, 1, 9, 7, 8), time.Hour, 10},
		{"the build date on every entry", at(3, 3, 3, 3, 3), 0, 0},
		{"only the newest ten", at(100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 0, -100, -200, -300, -400, -500, -600), time.Hour, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gap, last := itemGap(slices.Clone(tc.dates))
			if gap != tc.gap {
				t.Errorf("gap %s, want %s", gap, tc.gap)
			}
			if want := at(tc.last)[0]; gap > 0 && !last.Equal(want) {
				t.Errorf("last item %s, want %s", last, want)
			}
		})
	}
}

func TestResponseFresh(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"nothing", nil, 0},
		{"max-age", map[string]string{"Cache-Control": "public, max-age=600"}, 10 * time.Minute},
		{"max-age less age", map[string]string{"Cache-Control": "max-age=600", "Age": "100"}, 500 * time.Second},
		{"older than max-age", map[string]string{"Cache-Control": "max-age=60", "Age": "100"}, 0},
		{"no-cache wins", map[string]string{"Cache-Control": "no-cache, max-age=600"}, 0},
		{"max-age over expires", map[string]string{"Cache-Control": "max-age=60", "Expires": "Mon, 02 Mar 2026 12:00:00 GMT"}, time.Minute},
		{"expires from now", map[string]string{"Expires": "Mon, 02 Mar 2026 10:30:00 GMT"}, 30 * time.Minute},
		{"expires from the server's date", map[string]string{"Expires": "Mon, 02 Mar 2026 10:30:00 GMT", "Date": "Mon, 02 Mar 2026 10:20:00 GMT"}, 10 * time.Minute},
		{"expires in the past", map[string]string{"Expires": "Mon, 02 Mar 2026 09:00:00 GMT"}, 0},
		{"expires not a date", map[string]string{"Expires": "0"}, 0},
		{"max-age not a number", map[string]string{"Cache-Control": "max-age=soon", "Expires": "Mon, 02 Mar 2026 10:30:00 GMT"}, 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			if got := responseFresh(h, now); got != tc.want {
				t.Errorf("fresh for %s, want %s", got, tc.want)
			}
		})
	}
}

// TestFeedHints reads ttl, sy:updatePeriod/updateFrequency, skipHours and
// skipDays from an RSS feed, ignoring the values that do not parse, and
// the item gap from its dates.
func TestFeedHints(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "feeds", "hints.rss"))
	if err != nil {
		t.Fatal(err)
	}
	var hp hintParser
	feed, hints, err := hp.parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if hints.TTL != 90*time.Minute || hints.UpdatePeriod != 6*time.Hour {
		t.Errorf("ttl %s, update period %s; want 1h30m and 6h (daily, 4 times)", hints.TTL, hints.UpdatePeriod)
	}
	if want := []int{0, 1, 0}; !slices.Equal(hints.SkipHours, want) {
		t.Errorf("skip hours %v, want %v", hints.SkipHours, want)
	}
	if want := []time.Weekday{time.Sunday, time.Saturday}; !slices.Equal(hints.SkipDays, want) {
		t.Errorf("skip days %v, want %v", hints.SkipDays, want)
	}
	var c Cadence
	c.noteItems(feedItems(feed, "https://lighthouse.example.org/feed"), time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	if c.ItemGap != 48*time.Hour || !c.LastItem.Equal(time.Date(2026, 3, 4, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("item gap %s, last item %s; want 48h and the 4th of March", c.ItemGap, c.LastItem)
	}
	// Atom and JSON feeds have no ttl or skip lists.
	for _, name := range []string{"courier.atom", "lantern.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, h, err := new(hintParser).parse(data); err != nil || h.TTL != 0 || h.SkipHours != nil {
			t.Errorf("%s: hints %+v, err %v", name, h, err)
		}
	}
}

func TestNotePollKeepsTheLast(t *testing.T) {
	var c Cadence
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range maxPollNotes + 5 {
		c.notePoll(start.Add(time.Duration(i)*time.Minute), i)
	}
	if len(c.Polls) != maxPollNotes || c.Polls[0].New != 5 || c.Polls[maxPollNotes-1].New != maxPollNotes+4 {
		t.Errorf("kept %d polls, from %+v to %+v", len(c.Polls), c.Polls[0], c.Polls[len(c.Polls)-1])
	}
}

// FuzzFeedHints feeds arbitrary documents and cache headers through the
// hint readers and NextPoll: the next poll always falls between the
// bounds, and hints stay in range.
func FuzzFeedHints(f *testing.F) {
	for _, name := range []string{"hints.rss", "gazette.rss", "courier.atom"} {
		b, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "max-age=600", "Mon, 02 Mar 2026 10:30:00 GMT")
	}
	from := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	b := PollBounds{Interval: 15 * time.Minute, Min: time.Minute, Max: 24 * time.Hour}
	f.Fuzz(func(t *testing.T, data []byte, cacheControl, expires string) {
		s := FeedSignals{Fresh: responseFresh(http.Header{"Cache-Control": {cacheControl}, "Expires": {expires}}, from)}
		if s.Fresh < 0 {
			t.Fatalf("fresh for %s", s.Fresh)
		}
		if feed, hints, err := new(hintParser).parse(data); err == nil {
			for _, h := range hints.SkipHours {
				if h < 0 || h > 23 {
					t.Fatalf("skip hour %d", h)
				}
			}
			s.FeedHints = hints
			s.noteItems(feedItems(feed, "https://example.org/feed"), from)
		}
		next, why := NextPoll(b, s, from)
		if d := next.Sub(from); d < b.Min || d > b.Max {
			t.Fatalf("next poll in %s by %q, outside [%s, %s]", d, why, b.Min, b.Max)
		}
	})
}
