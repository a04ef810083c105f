package ingest

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
	"github.com/mmcdole/gofeed/rss"
)

// maxPollNotes is how many polls a feed's Cadence remembers; cadenceItems
// how many of its newest dated items its item gap is taken from.
const (
	maxPollNotes = 16
	cadenceItems = 10
)

// PollBounds bound the interval chosen between two polls of a feed.
type PollBounds struct {
	// Interval is used for a feed that gives no better signal.
	Interval time.Duration
	// Min and Max bound every interval chosen, whatever the signals.
	Min, Max time.Duration
}

// PollNote is one successful poll of a feed: when it was answered and how
// many of its items were new.
type PollNote struct {
	At  time.Time `json:"at"`
	New int       `json:"new,omitempty"`
}

// Cadence is what a feed has shown of how often it changes, kept in its
// FeedState to choose its next poll. Durations are in nanoseconds.
type Cadence struct {
	// Polls are the last successful polls, oldest first.
	Polls []PollNote `json:"polls,omitempty"`
	// ItemGap is the median gap between the newest dated items of the
	// feed's last full response, and LastItem the newest date (zero when
	// it had fewer than three distinct dates).
	ItemGap  time.Duration `json:"item_gap,omitempty"`
	LastItem time.Time     `json:"last_item,omitzero"`
	// TTL, UpdatePeriod, SkipHours and SkipDays are what the feed's last
	// full response said of itself (see FeedHints).
	FeedHints
}

// FeedHints are what a feed document says of how often to read it.
type FeedHints struct {
	// TTL is the RSS channel's <ttl>: how long it may be cached.
	TTL time.Duration `json:"ttl,omitempty"`
	// UpdatePeriod is sy:updatePeriod divided by sy:updateFrequency: how
	// often the publisher says it updates the feed.
	UpdatePeriod time.Duration `json:"update_period,omitempty"`
	// SkipHours (0-23, GMT) and SkipDays are the RSS channel's
	// <skipHours> and <skipDays>: when not to read it.
	SkipHours []int          `json:"skip_hours,omitempty"`
	SkipDays  []time.Weekday `json:"skip_days,omitempty"`
}

// FeedSignals is what is known of a feed when its next poll is chosen.
type FeedSignals struct {
	Cadence
	// Fresh is how long the last response stays fresh by its
	// Cache-Control max-age or Expires (see responseFresh).
	Fresh time.Duration
}

// NextPoll chooses when to poll a feed next, after a successful poll
// answered at from, and names the signal that chose it. Its interval is
//
//   - half the gap between its posts, when known: the median gap between
//     its newest dated items, or (for a feed without dates) the time its
//     last polls spanned divided by the new items they found; a feed that
//     has been quiet longer than that gap counts it as half the time since
//     its last post;
//   - else b.Interval;
//   - but no less than the feed's TTL, its sy:updatePeriod, or the time its
//     response stays fresh (Cache-Control max-age, Expires);
//   - and always between b.Min and b.Max.
//
// A time in the feed's skipHours or skipDays moves on to the next hour
// outside them, but not past b.Max from from.
func NextPoll(b PollBounds, s FeedSignals, from time.Time) (time.Time, string) {
	d, why := b.Interval, "interval"
	if g, ok := postGap(s.Cadence, from); ok {
		d, why = g/2, "posts"
	}
	for _, floor := range []struct {
		d   time.Duration
		why string
	}{{s.TTL, "ttl"}, {s.UpdatePeriod, "sy:updatePeriod"}, {s.Fresh, "cache"}} {
		if floor.d > d {
			d, why = floor.d, floor.why
		}
	}
	switch {
	case d < b.Min:
		d, why = b.Min, why+" (min)"
	case d > b.Max:
		d, why = b.Max, why+" (max)"
	}
	next := from.Add(d)
	if skipped := skip(next, s.SkipHours, s.SkipDays, from.Add(b.Max)); !skipped.Equal(next) {
		next, why = skipped, why+" (skip)"
	}
	return next, why
}

// postGap is the typical time between a feed's posts, and whether it is
// known: from its items' dates, else from what its polls found new.
func postGap(c Cadence, now time.Time) (time.Duration, bool) {
	if c.ItemGap > 0 {
		return max(c.ItemGap, now.Sub(c.LastItem)/2), true
	}
	if len(c.Polls) < 2 {
		return 0, false
	}
	span := c.Polls[len(c.Polls)-1].At.Sub(c.Polls[0].At)
	if span <= 0 {
		return 0, false
	}
	n := 0
	for _, p := range c.Polls[1:] { // the oldest poll's news came before the span
		n += p.New
	}
	switch {
	case n >= 2:
		return span / time.Duration(n), true
	case len(c.Polls) >= maxPollNotes:
		return span, true // at most one post in all that time
	}
	return 0, false
}

// skip moves t to the start of the next hour that is neither in hours
// (GMT) nor on one of days, but not past limit.
func skip(t time.Time, hours []int, days []time.Weekday, limit time.Time) time.Time {
	if len(hours) == 0 && len(days) == 0 {
		return t
	}
	for range 24 * 8 {
		u := t.UTC()
		if !slices.Contains(hours, u.Hour()) && !slices.Contains(days, u.Weekday()) {
			return t
		}
		t = u.Truncate(time.Hour).Add(time.Hour)
		if t.After(limit) {
			return limit
		}
	}
	return limit
}

// notePoll adds a poll answered at at (to the second) that found n new
// items to the history, keeping the last maxPollNotes.
func (c *Cadence) notePoll(at time.Time, n int) {
	c.Polls = append(c.Polls, PollNote{At: at.UTC().Truncate(time.Second), New: n})
	if extra := len(c.Polls) - maxPollNotes; extra > 0 {
		c.Polls = slices.Delete(c.Polls, 0, extra)
	}
}

// noteItems sets the item gap from the dates of a feed's items (published,
// else updated), ignoring dates after now and repeats.
func (c *Cadence) noteItems(items []FeedItem, now time.Time) {
	var dates []time.Time
	for _, it := range items {
		d := it.Published
		if d.IsZero() {
			d = it.Updated
		}
		if !d.IsZero() && !d.After(now) {
			dates = append(dates, d)
		}
	}
	c.ItemGap, c.LastItem = itemGap(dates)
}

// itemGap is the median gap between the newest cadenceItems distinct dates,
// and the newest date; zero unless there are three or more.
func itemGap(dates []time.Time) (time.Duration, time.Time) {
	slices.SortFunc(dates, func(a, b time.Time) int { return b.Compare(a) })
	dates = slices.CompactFunc(dates, time.Time.Equal)
	if len(dates) < 3 {
		return 0, time.Time{}
	}
	dates = dates[:min(len(dates), cadenceItems)]
	gaps := make([]time.Duration, len(dates)-1)
	for i := range gaps {
		gaps[i] = dates[i].Sub(dates[i+1])
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2], dates[0].UTC()
}

// responseFresh is how long a response with header h, received at now,
// stays fresh: its Cache-Control max-age less its Age, else its Expires
// less its Date (or now). Zero for no-cache and no-store.
func responseFresh(h http.Header, now time.Time) time.Duration {
	if cc := h.Get("Cache-Control"); cc != "" {
		var maxAge time.Duration
		found := false
		for _, dir := range strings.Split(cc, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "no-cache", "no-store":
				return 0
			case "max-age":
				if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n > 0 {
					maxAge, found = time.Duration(min(n, 1<<32))*time.Second, true
				}
			}
		}
		if found {
			age, _ := strconv.ParseInt(h.Get("Age"), 10, 64)
			return max(maxAge-time.Duration(max(age, 0))*time.Second, 0)
		}
	}
	exp, err := http.ParseTime(h.Get("Expires"))
	if err != nil {
		return 0
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	return max(exp.Sub(now), 0)
}

// hintParser parses feeds as gofeed does, keeping the hints gofeed.Feed
// leaves out: an RSS channel's ttl, skipHours and skipDays.
type hintParser struct {
	gofeed.DefaultRSSTranslator
	hints FeedHints
}

// Translate implements gofeed.Translator for RSS.
func (t *hintParser) Translate(feed any) (*gofeed.Feed, error) {
	if f, ok := feed.(*rss.Feed); ok {
		t.hints = rssHints(f)
	}
	return t.DefaultRSSTranslator.Translate(feed)
}

// parse parses a feed document and returns it with its hints.
func (t *hintParser) parse(data []byte) (*gofeed.Feed, FeedHints, error) {
	p := gofeed.NewParser()
	p.RSSTranslator = t
	feed, err := p.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, FeedHints{}, err
	}
	h := t.hints
	h.UpdatePeriod = syUpdatePeriod(feed.Extensions)
	return feed, h, nil
}

// rssHints reads an RSS channel's ttl (minutes), skipHours and skipDays,
// ignoring values that do not parse.
func rssHints(f *rss.Feed) FeedHints {
	var h FeedHints
	if n, err := strconv.Atoi(strings.TrimSpace(f.TTL)); err == nil && n > 0 {
		h.TTL = time.Duration(min(n, 366*24*60)) * time.Minute
	}
	for _, s := range f.SkipHours {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 && n <= 24 {
			h.SkipHours = append(h.SkipHours, n%24) // some feeds count 1 to 24
		}
	}
	for _, s := range f.SkipDays {
		for d := time.Sunday; d <= time.Saturday; d++ {
			if strings.EqualFold(strings.TrimSpace(s), d.String()) {
				h.SkipDays = append(h.SkipDays, d)
			}
		}
	}
	if len(h.SkipHours) == 24 || len(h.SkipDays) == 7 {
		h.SkipHours, h.SkipDays = nil, nil // never read it: a mistake
	}
	return h
}

// syUpdatePeriod reads the syndication module's updatePeriod (hourly,
// daily, weekly, monthly, yearly) and updateFrequency (times a period, 1
// if absent) from a feed's extensions; zero if it has none.
func syUpdatePeriod(e ext.Extensions) time.Duration {
	sy := e["sy"]
	value := func(name string) string {
		if v := sy[name]; len(v) > 0 {
			return strings.ToLower(strings.TrimSpace(v[0].Value))
		}
		return ""
	}
	period := map[string]time.Duration{
		"hourly": time.Hour, "daily": 24 * time.Hour, "weekly": 7 * 24 * time.Hour,
		"monthly": 30 * 24 * time.Hour, "yearly": 365 * 24 * time.Hour,
	}[value("updatePeriod")]
	if period == 0 {
		return 0
	}
	freq, err := strconv.Atoi(value("updateFrequency"))
	if err != nil || freq < 1 {
		freq = 1
	}
	return period / time.Duration(freq)
}
