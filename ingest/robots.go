package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/newsflow/newsflow/ingest/fault"
)

// Defaults of the robots.txt cache (PollerConfig.RobotsMinAge, RobotsMaxAge).
const (
	DefaultRobotsMinAge = time.Minute
	DefaultRobotsMaxAge = 24 * time.Hour
	// maxCrawlDelay caps a robots.txt Crawl-delay: a larger one is read as
	// this much.
	maxCrawlDelay = 5 * time.Minute
	// robotsReadLimit is how much of a robots.txt is read, as Google does.
	robotsReadLimit = 500 << 10
	// maxRobotsEntries bounds the hosts whose robots.txt is remembered.
	maxRobotsEntries = 10000
)

// ErrRobotsDisallowed is wrapped by the error of an article page that the
// site's robots.txt refuses to newsflow. The error is permanent: the item
// is published with it, so that the processor parks it, and marked seen.
var ErrRobotsDisallowed = errors.New("refused by robots.txt")

// ErrRobotsUnavailable is wrapped by the error of an article page whose
// site's robots.txt could not be had (a 5xx or 429 status, or no answer):
// as Google does, the site is then taken as closed for a while. The error
// is temporary.
var ErrRobotsUnavailable = errors.New("robots.txt unavailable")

// robotsCache fetches each site's robots.txt once and keeps its rules for
// newsflow until they expire: after the response's Cache-Control max-age or
// Expires, held between minAge and maxAge (maxAge when it gives none). A
// 4xx other than 429 allows everything; a 5xx, a 429 or no answer refuses
// everything until it is asked again, minAge (or the Retry-After) later.
type robotsCache struct {
	agent          string // the product token matched against User-agent lines
	minAge, maxAge time.Duration
	now            func() time.Time
	// fetch gets a robots.txt, within the per-host limits.
	fetch func(ctx context.Context, u string) (*Response, error)

	mu      sync.Mutex
	entries map[string]*robotsEntry // by origin (scheme://host:port)
}

type robotsEntry struct {
	ready   chan struct{} // closed once filled
	group   *robotstxt.Group
	err     error // ErrRobotsUnavailable, while it lasts
	expires time.Time
}

func newRobotsCache(agent string, minAge, maxAge time.Duration, now func() time.Time,
	fetch func(ctx context.Context, u string) (*Response, error)) *robotsCache {
	return &robotsCache{agent: agent, minAge: minAge, maxAge: maxAge, now: now, fetch: fetch, entries: map[string]*robotsEntry{}}
}

// robotsAgent is the product token of the User-Agent ua ("newsflow" of
// "newsflow/1.2 (+https://...)"), which robots.txt groups name.
func robotsAgent(ua string) string {
	tok, _, _ := strings.Cut(ua, "/")
	tok, _, _ = strings.Cut(tok, " ")
	return strings.ToLower(tok)
}

// check returns nil if robots.txt lets newsflow fetch page, an error
// wrapping ErrRobotsDisallowed if it does not, or one wrapping
// ErrRobotsUnavailable (or ctx's error) if it cannot say now; that one
// also wraps errNotSent when robots.txt was not asked again this time.
func (c *robotsCache) check(ctx context.Context, page string) error {
	u, err := url.Parse(page)
	if err != nil {
		return nil // the fetch will say what is wrong with the link
	}
	e, fetched, err := c.entry(ctx, u)
	if err != nil {
		return err
	}
	if e.err != nil && !fetched {
		// Known to be unavailable, not asked again: no attempt made.
		return fmt.Errorf("%w: %w", errNotSent, e.err)
	}
	if e.err != nil {
		return e.err
	}
	if e.group != nil && !e.group.Test(robotsPath(u)) {
		return fault.AsPermanent(fmt.Errorf("%w: %s", ErrRobotsDisallowed, page))
	}
	return nil
}

// crawlDelay returns the Crawl-delay of page's site if its robots.txt is
// known, without fetching it.
func (c *robotsCache) crawlDelay(page string) time.Duration {
	u, err := url.Parse(page)
	if err != nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[origin(u)]
	if e == nil {
		return 0
	}
	select {
	case <-e.ready:
	default:
		return 0
	}
	if e.group == nil {
		return 0
	}
	return min(e.group.CrawlDelay, maxCrawlDelay)
}

// robotsPath is what robots.txt rules match: the path and query of u.
func robotsPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

func origin(u *url.URL) string {
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// entry returns u's site's entry, fetching its robots.txt when it is not
// known or has expired, and whether this call fetched it. Concurrent
// callers for one site share one fetch.
func (c *robotsCache) entry(ctx context.Context, u *url.URL) (*robotsEntry, bool, error) {
	key := origin(u)
	for {
		c.mu.Lock()
		e := c.entries[key]
		if e != nil {
			select {
			case <-e.ready:
				if c.now().Before(e.expires) {
					c.mu.Unlock()
					return e, false, nil
				}
				e = nil // expired: fetch again
			default:
			}
		}
		if e == nil {
			e = &robotsEntry{ready: make(chan struct{})}
			c.evictLocked()
			c.entries[key] = e
			c.mu.Unlock()
			ok := c.fill(ctx, key, e)
			if !ok {
				// Cut short by ctx: remember nothing.
				c.mu.Lock()
				delete(c.entries, key)
				c.mu.Unlock()
			}
			close(e.ready)
			if !ok {
				return nil, false, ctx.Err()
			}
			return e, true, nil
		}
		c.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// evictLocked makes room for one more entry: it drops the expired ones,
// and any one if none has.
func (c *robotsCache) evictLocked() {
	if len(c.entries) < maxRobotsEntries {
		return
	}
	now := c.now()
	for k, e := range c.entries {
		select {
		case <-e.ready:
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		default:
		}
	}
	for k := range c.entries {
		if len(c.entries) < maxRobotsEntries {
			break
		}
		delete(c.entries, k)
	}
}

// fill fetches the robots.txt of the site at origin into e. It reports
// false if ctx ended first.
func (c *robotsCache) fill(ctx context.Context, origin string, e *robotsEntry) bool {
	u := origin + "/robots.txt"
	resp, err := c.fetch(ctx, u)
	if ctx.Err() != nil {
		return false
	}
	now := c.now()
	unavailable := func(cause error, retryAfter time.Duration) bool {
		e.err = fault.AsTemporary(fmt.Errorf("%w for %s: %w", ErrRobotsUnavailable, origin, cause))
		e.expires = now.Add(min(max(c.minAge, retryAfter), c.maxAge))
		return true
	}
	if err != nil {
		if errors.Is(err, errSharedLimits) {
			// The bus failed, not the site: nothing is remembered of it.
			e.err, e.expires = err, now
			return true
		}
		if fault.IsTemporary(err) {
			return unavailable(err, 0)
		}
		// A refused address, a loop of redirects...: no robots.txt to
		// read, as for a 404.
		e.expires = now.Add(c.maxAge)
		return true
	}
	if resp.Status == http.StatusTooManyRequests || resp.Status >= 500 {
		return unavailable(resp.Err(), resp.RetryAfter)
	}
	age, ok := cacheLifetime(resp.Header, now)
	if !ok {
		age = c.maxAge
	}
	e.expires = now.Add(min(max(age, c.minAge), c.maxAge))
	if resp.Status >= 200 && resp.Status < 300 {
		e.group = parseRobots(resp.Body).FindGroup(c.agent)
	}
	return true
}

// parseRobots reads a robots.txt, at most its first 500 KiB. The parser
// gives up on a whole file for one line out of place (a rule before any
// User-agent, a Crawl-delay that is not a number); such lines are then
// dropped and the rest read, as Google reads them.
func parseRobots(body []byte) *robotstxt.RobotsData {
	body = body[:min(len(body), robotsReadLimit)]
	if r, err := robotstxt.FromBytes(body); err == nil {
		return r
	}
	var b bytes.Buffer
	agent := false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, robotsReadLimit+1)
	for sc.Scan() {
		line := sc.Text()
		field, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value, _, _ = strings.Cut(value, "#")
		switch strings.ToLower(strings.TrimSpace(field)) {
		case "user-agent":
			agent = true
		case "crawl-delay":
			if n, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err != nil || !(n >= 0 && n <= 1e6) {
				continue
			}
		}
		if agent {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	r, err := robotstxt.FromBytes(b.Bytes())
	if err != nil {
		r, _ = robotstxt.FromStatusAndBytes(http.StatusNotFound, nil) // allow all
	}
	return r
}

// cacheLifetime is how long a response with header h, received at now,
// stays fresh: Cache-Control max-age (0 for no-store or no-cache), else
// Expires less Date. It reports false when h says neither.
func cacheLifetime(h http.Header, now time.Time) (time.Duration, bool) {
	if cc := h.Values("Cache-Control"); len(cc) > 0 {
		maxAge, found := time.Duration(0), false
		for _, v := range cc {
			for d := range strings.SplitSeq(v, ",") {
				name, arg, _ := strings.Cut(strings.TrimSpace(d), "=")
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "no-store", "no-cache":
					return 0, true
				case "max-age":
					n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(arg), `"`), 10, 64)
					if err != nil || n < 0 {
						continue
					}
					n = min(n, int64(365*24*time.Hour/time.Second))
					maxAge, found = time.Duration(n)*time.Second, true
				}
			}
		}
		if found {
			return maxAge, true
		}
	}
	if v := h.Get("Expires"); v != "" {
		exp, err := http.ParseTime(v)
		if err != nil {
			return 0, true // an invalid Expires means already expired
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = now
		}
		return max(exp.Sub(date), 0), true
	}
	return 0, false
}
