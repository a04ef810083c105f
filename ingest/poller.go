package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsflow/newsflow/ingest/fault"
)

// Defaults of PollerConfig.
const (
	DefaultInterval        = 15 * time.Minute
	DefaultConcurrency     = 8
	DefaultMaxInFlight     = 64
	DefaultPageWorkers     = 16
	DefaultPerHost         = 2
	DefaultMaxPageAttempts = 5
	DefaultClaimTTL        = 5 * time.Second
	DefaultBusTimeout      = 10 * time.Second
	DefaultHostBackoff     = time.Minute
	maxDefaultBackoff      = 6 * time.Hour
	// storeRetry is how soon a feed is looked at again after the state
	// store failed; busBackoffMax caps the delay before a feed whose round
	// failed for the bus is polled again.
	storeRetry    = time.Second
	busBackoffMax = 30 * time.Second
)

// feedAccept is the Accept header of feed requests.
const feedAccept = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"

// PollerConfig configures a Poller. Feeds, Publisher, State and Seen are
// required; zero values of the others take the defaults given.
type PollerConfig struct {
	// Feeds to watch. Their tokens must be distinct.
	Feeds []Feed
	// Registry, when set, is watched while Run runs: the feeds it reports
	// active are polled too, those it reports removed or paused no longer
	// are. Feeds may then be empty.
	Registry FeedWatcher
	// Client fetches feeds and pages; nil means NewClient(ClientOptions{}).
	Client *Client
	// Publisher receives the RawArticles.
	Publisher Publisher
	// State keeps per-feed state shared by replicas.
	State StateStore
	// Seen keeps the ids of items already published.
	Seen SeenStore
	// Interval between two polls of a feed that gives no better signal of
	// how often it changes (DefaultInterval), counted from one response of
	// the feed to the next.
	Interval time.Duration
	// MinInterval and MaxInterval bound the interval chosen for each feed
	// from its own signals (see NextPoll); zero means Interval, so that
	// every feed is polled every Interval.
	MinInterval, MaxInterval time.Duration
	// Jitter is the most added at random to the interval after a feed's
	// first poll, so that feeds listed together spread out; later polls
	// keep their place (Interval/10; negative means none).
	Jitter time.Duration
	// MaxBackoff caps the delay after failed polls, which doubles from
	// Interval with each failure in a row (16×Interval, at most 6h, and
	// never less than Interval). It also caps a server's Retry-After.
	MaxBackoff time.Duration
	// Concurrency is how many feed documents are fetched and read at once
	// (DefaultConcurrency); at most PerHost of them from one host.
	Concurrency int
	// MaxInFlight is how many feeds may have a round under way at once,
	// their pages included (DefaultMaxInFlight). It bounds memory.
	MaxInFlight int
	// PageWorkers is how many article pages are fetched at once, over all
	// feeds (DefaultPageWorkers). Pages wait in a queue per host and hosts
	// take turns, PerHost pages of a host at most, so a slow host holds
	// only PerHost workers.
	PageWorkers int
	// PerHost is how many requests go to one host (name and port) at
	// once, feeds, pages and robots.txt together, over every replica that
	// shares Hosts (DefaultPerHost).
	PerHost int
	// HostSpacing is the least time between two requests to one host:
	// from the start of one to the start of the next, and from the end of
	// one to the start of the next. A robots.txt Crawl-delay that is
	// longer (up to 5 minutes) is used instead. Zero means none.
	HostSpacing time.Duration
	// Hosts shares the per-host limits (PerHost, HostSpacing, and the wait
	// after a 429 or 503) with the other replicas; nil keeps them within
	// this Poller.
	Hosts HostLeases
	// HostBackoff is how long a host that answered 429 or 503 without a
	// Retry-After gets no request, feeds and pages alike
	// (DefaultHostBackoff). A Retry-After is honoured up to MaxBackoff.
	HostBackoff time.Duration
	// RobotsMinAge and RobotsMaxAge bound how long a site's robots.txt is
	// kept (DefaultRobotsMinAge, DefaultRobotsMaxAge): as long as its
	// Cache-Control or Expires says, or RobotsMaxAge when they say nothing.
	// A robots.txt that could not be had (5xx, 429, no answer) closes its
	// site for RobotsMinAge, or its Retry-After.
	RobotsMinAge, RobotsMaxAge time.Duration
	// MaxPageAttempts is how many temporary failures of an article page are
	// retried before the item is published with its failure
	// (DefaultMaxPageAttempts).
	MaxPageAttempts int
	// RoundTimeout bounds one poll of one feed, its pages included
	// (Interval, between 1 and 10 minutes).
	RoundTimeout time.Duration
	// ClaimTTL is how long a claim on a feed lasts unless renewed
	// (DefaultClaimTTL). A round renews its claim every ClaimTTL/3, so the
	// feeds of a fetcher that died are taken over ClaimTTL after it stopped.
	// It is also how long a request's slot in Hosts lasts unless renewed.
	// Replicas' clocks must agree to well within it.
	ClaimTTL time.Duration
	// BusTimeout bounds each publish and each call of the State and Seen
	// stores (DefaultBusTimeout), so that a bus that went away mid-call
	// fails the round soon; the feed is then polled again within seconds
	// of the bus coming back.
	BusTimeout time.Duration
	// ReplicaID names this fetcher in the claims it writes (host name and
	// process id).
	ReplicaID string
	// Logger (slog.Default()).
	Logger *slog.Logger
	// Now is the clock (time.Now); tests set it.
	Now func() time.Time
}

// Stats are a Poller's counters since it was made.
type Stats struct {
	// FeedsPolled counts feed fetches answered with 200 or 304.
	FeedsPolled int64 `json:"feeds_polled"`
	// FeedsNotModified counts the 304 answers among them.
	FeedsNotModified int64 `json:"feeds_not_modified"`
	// FeedErrors counts feed polls that failed: network, HTTP status, or a
	// feed that does not parse.
	FeedErrors int64 `json:"feed_errors"`
	// ClaimsLost counts feeds another replica claimed first.
	ClaimsLost int64 `json:"claims_lost"`
	// ItemsSeen counts items skipped because they were published before.
	ItemsSeen int64 `json:"items_seen"`
	// ItemsPublished counts RawArticles published, with a page or with its
	// failure.
	ItemsPublished int64 `json:"items_published"`
	// PagesFetched counts article pages fetched with a 2xx status.
	PagesFetched int64 `json:"pages_fetched"`
	// PagesNotModified counts pages of updated items fetched again that
	// had not changed: a 304, or the same body (see PageVersions).
	PagesNotModified int64 `json:"pages_not_modified"`
	// PageErrors counts article page fetches that failed.
	PageErrors int64 `json:"page_errors"`
	// PagesGivenUp counts items published with a page that failed for good.
	PagesGivenUp int64 `json:"pages_given_up"`
	// PagesDisallowed counts the pages among them that robots.txt refused.
	PagesDisallowed int64 `json:"pages_disallowed"`
	// PublishErrors counts failed publishes; each ends its feed's round.
	PublishErrors int64 `json:"publish_errors"`
	// StateErrors counts failures of the state and seen stores.
	StateErrors int64 `json:"state_errors"`
}

type counters struct {
	feedsPolled, feedsNotModified, feedErrors, claimsLost, itemsSeen, itemsPublished,
	pagesFetched, pagesNotModified, pageErrors, pagesGivenUp, pagesDisallowed, publishErrors, stateErrors atomic.Int64
}

// Poller polls feeds and publishes the articles of their new items.
//
// Each feed is polled by a timer set at its due time, chosen after each
// poll from the feed's own signals between MinInterval and MaxInterval
// (see NextPoll): every Interval for a feed without better signals. The due times live in the StateStore, so several Pollers
// (replicas, in separate processes) can share the same feeds: a Poller
// claims a due feed by saving its state with compare-and-set before
// fetching it, and only the one whose save succeeds polls it. A claim lasts
// ClaimTTL and is renewed while the round runs; a round that cannot renew
// its claim stops before the claim runs out, so two replicas never poll a
// feed at once. At the end of a round the Poller saves the next due time
// with its claim extended to ClaimTTL past it: it keeps the feeds it polls,
// and the next round starts without a write (one write per poll at 304);
// if it dies, the claim lapses ClaimTTL after the feed falls due and
// another replica takes the feed.
//
// Work is scheduled in two parts, so that a slow site delays only its own
// feeds. Up to Concurrency feeds are fetched and read at once. The pages of
// their new items go to one pool of PageWorkers, queued per host (PerHost
// at once); a feed waiting for its pages holds no fetch slot. MaxInFlight
// bounds the feeds under way.
//
// A poll sends the saved ETag and Last-Modified as If-None-Match and
// If-Modified-Since; a 304 ends it. Otherwise the feed is parsed (RSS,
// Atom or JSON Feed) and each item not in the SeenStore has its page
// fetched, is published as a RawArticle, and only then is marked seen. An
// item repeating another's GUID and link in one feed is skipped with a
// warning; items sharing a GUID with different links are each kept (see
// itemIDs). An item already seen whose updated time moved (an Atom entry
// with only updated, which some feeds stamp anew at every build) has its
// page fetched again, conditionally, when the seen store keeps page
// versions (PageVersions), and is published again only if the page
// changed. The new validators are saved only when every item was handled,
// so that items left for later come back in the next response.
//
// Failures never stop the Poller, and a failing round is logged with its
// feed and error. A feed that cannot be fetched or parsed is polled again
// after a delay that doubles with each failure in a row (capped by
// MaxBackoff; a Retry-After is honoured). A round that failed for the bus
// (a publish, or the seen store) is tried again within seconds, with a
// short backoff, so that ingest resumes as soon as the bus is back; each
// publish and store call has BusTimeout.
//
// Every request (feed, page, robots.txt) goes through the per-host limits:
// PerHost in flight and HostSpacing (or the site's Crawl-delay) between
// them, shared with the other replicas through Hosts. A 429 or 503 holds
// the host back for its Retry-After (or HostBackoff); the host's pages
// then wait for a later poll without using up an attempt.
//
// An article page is fetched only if its site's robots.txt allows it (see
// robotsCache). A page it refuses is published with an error wrapping
// ErrRobotsDisallowed ("refused by robots.txt: <url>"), parked by the
// processor, and marked seen, so that it is not tried again at every poll.
//
// The rule for article pages: a temporary failure (network error, timeout,
// 408, 425, 429, 5xx, a robots.txt that cannot be had) leaves the item
// unpublished, to be retried at the next poll of its feed, up to
// MaxPageAttempts failures in all. A page that fails
// for good (another 4xx such as 404 or 410, a refused address, a page that
// is not HTML, a body over the limit, no link at all) or that used up its
// attempts is published anyway, with its Status and Body as served (Status
// 0 and no body when no response came) and the error in
// RawArticle.FetchError, so that the processor parks it with its error:
// nothing is dropped silently.
type Poller struct {
	cfg    PollerConfig
	log    *slog.Logger
	client *Client
	hosts  *hostLimiter
	robots *robotsCache
	fetch  chan struct{} // Concurrency slots
	stats  counters
	wake   chan struct{}

	mu        sync.Mutex
	feeds     map[string]Feed // the feeds to poll, by token
	inRound   map[string]bool // the feeds with a round under way
	running   int
	queue     dueQueue
	nextLook  map[string]time.Time // when to look at a feed's state again
	reserved  map[string]claimed   // claims this Poller holds past a round
	storeDown time.Time            // the state store failed; no claims until then
}

// NewPoller checks c, fills in defaults, and returns a Poller.
func NewPoller(c PollerConfig) (*Poller, error) {
	switch {
	case len(c.Feeds) == 0 && c.Registry == nil:
		return nil, errors.New("ingest: PollerConfig.Feeds is empty and there is no Registry: no feeds to poll")
	case c.Publisher == nil:
		return nil, errors.New("ingest: PollerConfig.Publisher is required")
	case c.State == nil:
		return nil, errors.New("ingest: PollerConfig.State is required")
	case c.Seen == nil:
		return nil, errors.New("ingest: PollerConfig.Seen is required")
	case c.Interval < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.Interval %s is negative", c.Interval)
	case c.MinInterval < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.MinInterval %s is negative", c.MinInterval)
	case c.MaxInterval < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.MaxInterval %s is negative", c.MaxInterval)
	case c.MaxBackoff < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.MaxBackoff %s is negative", c.MaxBackoff)
	case c.Concurrency < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.Concurrency %d is negative", c.Concurrency)
	case c.MaxInFlight < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.MaxInFlight %d is negative", c.MaxInFlight)
	case c.PageWorkers < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.PageWorkers %d is negative", c.PageWorkers)
	case c.PerHost < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.PerHost %d is negative", c.PerHost)
	case c.MaxPageAttempts < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.MaxPageAttempts %d is negative", c.MaxPageAttempts)
	case c.RoundTimeout < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.RoundTimeout %s is negative", c.RoundTimeout)
	case c.ClaimTTL < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.ClaimTTL %s is negative", c.ClaimTTL)
	case c.BusTimeout < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.BusTimeout %s is negative", c.BusTimeout)
	case c.HostSpacing < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.HostSpacing %s is negative", c.HostSpacing)
	case c.HostBackoff < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.HostBackoff %s is negative", c.HostBackoff)
	case c.RobotsMinAge < 0 || c.RobotsMaxAge < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.RobotsMinAge %s or RobotsMaxAge %s is negative", c.RobotsMinAge, c.RobotsMaxAge)
	}
	c.Feeds = slices.Clone(c.Feeds) // tokens are filled in below
	feeds := map[string]Feed{}
	for i, f := range c.Feeds {
		if _, err := normalizeFeedURL(f.URL); err != nil {
			return nil, fmt.Errorf("ingest: PollerConfig.Feeds[%d]: %w", i, err)
		}
		if f.Token == "" {
			f.Token = FeedToken(f.URL)
			c.Feeds[i].Token = f.Token
		}
		if !subjectSafe(f.Token) {
			return nil, fmt.Errorf("ingest: PollerConfig.Feeds[%d]: token %q of %s may hold only letters, digits, '-' and '_'", i, f.Token, f.URL)
		}
		if prev, dup := feeds[f.Token]; dup {
			return nil, fmt.Errorf("ingest: PollerConfig.Feeds: %s and %s have the same token %q", prev.URL, f.URL, f.Token)
		}
		feeds[f.Token] = f
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	c.MinInterval = cmp.Or(c.MinInterval, c.Interval)
	c.MaxInterval = cmp.Or(c.MaxInterval, c.Interval)
	if c.MinInterval > c.Interval || c.MaxInterval < c.Interval {
		return nil, fmt.Errorf("ingest: PollerConfig: Interval %s is not between MinInterval %s and MaxInterval %s", c.Interval, c.MinInterval, c.MaxInterval)
	}
	if c.Jitter == 0 {
		c.Jitter = c.Interval / 10
	}
	if c.Jitter < 0 {
		c.Jitter = 0
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = min(16*c.Interval, maxDefaultBackoff)
	}
	c.MaxBackoff = max(c.MaxBackoff, c.Interval)
	c.Concurrency = cmp.Or(c.Concurrency, DefaultConcurrency)
	c.MaxInFlight = cmp.Or(c.MaxInFlight, DefaultMaxInFlight)
	c.PageWorkers = cmp.Or(c.PageWorkers, DefaultPageWorkers)
	c.PerHost = cmp.Or(c.PerHost, DefaultPerHost)
	c.MaxPageAttempts = cmp.Or(c.MaxPageAttempts, DefaultMaxPageAttempts)
	c.ClaimTTL = cmp.Or(c.ClaimTTL, DefaultClaimTTL)
	c.BusTimeout = cmp.Or(c.BusTimeout, DefaultBusTimeout)
	c.HostBackoff = cmp.Or(c.HostBackoff, DefaultHostBackoff)
	c.RobotsMinAge = cmp.Or(c.RobotsMinAge, DefaultRobotsMinAge)
	c.RobotsMaxAge = max(cmp.Or(c.RobotsMaxAge, DefaultRobotsMaxAge), c.RobotsMinAge)
	if c.RoundTimeout == 0 {
		c.RoundTimeout = min(max(c.Interval, time.Minute), 10*time.Minute)
	}
	if c.ReplicaID == "" {
		host, _ := os.Hostname()
		c.ReplicaID = host + "-" + strconv.Itoa(os.Getpid())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	client := c.Client
	if client == nil {
		client = NewClient(ClientOptions{})
	}
	p := &Poller{
		cfg:      c,
		log:      c.Logger,
		client:   client,
		hosts:    newHostLimiter(c.PerHost, c.ClaimTTL, c.Hosts),
		feeds:    feeds,
		fetch:    make(chan struct{}, c.Concurrency),
		wake:     make(chan struct{}, 1),
		nextLook: map[string]time.Time{},
		reserved: map[string]claimed{},
		inRound:  map[string]bool{},
	}
	p.robots = newRobotsCache(robotsAgent(client.Options().UserAgent), c.RobotsMinAge, c.RobotsMaxAge, c.Now,
		func(ctx context.Context, u string) (*Response, error) {
			return p.send(ctx, u, func(ctx context.Context) (*Response, error) { return client.Get(ctx, u, nil) })
		})
	for _, f := range c.Feeds {
		p.lookAtLocked(f.Token, time.Time{})
	}
	return p, nil
}

// Stats returns the Poller's counters.
func (p *Poller) Stats() Stats {
	s := &p.stats
	return Stats{
		FeedsPolled:      s.feedsPolled.Load(),
		FeedsNotModified: s.feedsNotModified.Load(),
		FeedErrors:       s.feedErrors.Load(),
		ClaimsLost:       s.claimsLost.Load(),
		ItemsSeen:        s.itemsSeen.Load(),
		ItemsPublished:   s.itemsPublished.Load(),
		PagesFetched:     s.pagesFetched.Load(),
		PagesNotModified: s.pagesNotModified.Load(),
		PageErrors:       s.pageErrors.Load(),
		PagesGivenUp:     s.pagesGivenUp.Load(),
		PagesDisallowed:  s.pagesDisallowed.Load(),
		PublishErrors:    s.publishErrors.Load(),
		StateErrors:      s.stateErrors.Load(),
	}
}

// poll runs one round of feed f, if it can claim it, and then lets the
// scheduler look at it again.
func (p *Poller) poll(ctx context.Context, f Feed, pages *pagePool) {
	look := p.cfg.Now().Add(storeRetry)
	defer func() {
		p.mu.Lock()
		p.running--
		delete(p.inRound, f.Token)
		p.mu.Unlock()
		p.lookAt(f.Token, look)
	}()
	select {
	case p.fetch <- struct{}{}:
	case <-ctx.Done():
		return
	}
	held := true
	release := func() {
		if held {
			held = false
			<-p.fetch
		}
	}
	defer release()
	st, rev, due, err := p.claim(ctx, f)
	if err != nil || !due.IsZero() {
		if !due.IsZero() {
			look = due
		}
		return
	}
	look = p.round(ctx, f, st, rev, pages, release)
}

// outcome is how a feed's round went.
type outcome struct {
	err        error         // the round failed (feed error or publish error)
	bus        bool          // it failed because the bus did
	retryAfter time.Duration // the feed's server asked to wait
	fresh      time.Duration // how long the feed's response stays fresh
	newItems   int           // items not seen before
	pending    bool          // items were left for the next poll
	answered   time.Time     // when the feed's response came
}

// round polls the claimed feed f and saves its new state, keeping the
// claim for the next round. It renews the claim while it runs and stops
// early if it cannot. release frees the fetch slot once the feed is read.
// It returns when to look at the feed again.
func (p *Poller) round(ctx context.Context, f Feed, st FeedState, rev uint64, pages *pagePool, release func()) time.Time {
	log := p.log.With("feed", f.URL, "token", f.Token)
	prevDue := st.NextDue
	started := p.cfg.Now()
	rctx, cancel := context.WithTimeout(ctx, p.cfg.RoundTimeout)
	defer cancel()
	hb := p.heartbeat(rctx, cancel, log, f, st, rev)
	out := p.fetchFeed(rctx, log, f, &st, pages, release)
	rev, lost := hb.stop()
	switch {
	case lost:
		// Another fetcher may have the feed now: leave it its state.
		p.stats.claimsLost.Add(1)
		log.Warn("feed round failed: its claim was lost or could not be renewed", "err", out.err, "next_look_in", p.cfg.ClaimTTL)
		return p.cfg.Now().Add(p.cfg.ClaimTTL)
	case out.err == nil && rctx.Err() != nil && ctx.Err() == nil:
		out.err = fmt.Errorf("poll of %s did not finish within RoundTimeout %s", f.URL, p.cfg.RoundTimeout)
	}
	now := p.cfg.Now()
	st.LastFetch = started.UTC()
	st.ClaimedBy = p.cfg.ReplicaID
	switch {
	case ctx.Err() != nil:
		// Shutting down: release the feed as due as it was.
		st.NextDue = prevDue
		st.ClaimedBy = ""
	case out.err != nil:
		st.ErrorStreak++
		st.LastError = out.err.Error()
		delay := p.backoff(st.ErrorStreak, out.retryAfter)
		if out.bus {
			delay = busBackoff(st.ErrorStreak)
		}
		st.NextDue = now.Add(delay).UTC()
		log.Warn("feed round failed", "err", out.err, "bus", out.bus, "streak", st.ErrorStreak, "next_poll_in", delay)
	default:
		st.ErrorStreak = 0
		st.LastError = ""
		st.LastSuccess = now.UTC()
		// Intervals run from one response to the next: never shorter
		// than chosen, however long the round's pages took.
		if out.answered.IsZero() {
			out.answered = now
		}
		st.Cadence.notePoll(out.answered, out.newItems)
		b := PollBounds{Interval: p.cfg.Interval, Min: p.cfg.MinInterval, Max: p.cfg.MaxInterval}
		if out.pending {
			b.Max = b.Interval // the items left for later are not left long
		}
		next, why := NextPoll(b, FeedSignals{Cadence: st.Cadence, Fresh: out.fresh}, out.answered)
		if prevDue.IsZero() {
			next = next.Add(p.jitter()) // a new feed finds its place
		}
		st.NextDue = next.UTC()
		log.Debug("next poll", "in", next.Sub(out.answered), "by", why)
	}
	st.ClaimedUntil = time.Time{}
	if st.ClaimedBy != "" {
		st.ClaimedUntil = st.NextDue.Add(p.cfg.ClaimTTL)
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), p.cfg.BusTimeout)
	defer scancel()
	newRev, err := p.saveClaimed(sctx, f.Token, st, rev)
	switch {
	case errors.Is(err, ErrStateConflict):
		p.stats.claimsLost.Add(1)
		log.Warn("feed state changed by another fetcher during a poll; its claim had run out")
		return now.Add(p.cfg.ClaimTTL)
	case err != nil:
		p.stats.stateErrors.Add(1)
		log.Warn("cannot save feed state", "err", err)
		return now.Add(min(storeRetry, st.NextDue.Sub(now)))
	}
	if st.ClaimedBy != "" {
		p.mu.Lock()
		p.reserved[f.Token] = claimed{st, newRev}
		p.mu.Unlock()
	}
	return st.NextDue
}

// busBackoff is the delay before polling a feed whose round failed for the
// bus, after streak failures in a row: 1s doubling to busBackoffMax.
func busBackoff(streak int) time.Duration {
	d := time.Second
	for i := 1; i < streak && d < busBackoffMax; i++ {
		d *= 2
	}
	return min(d, busBackoffMax)
}

// backoff is the delay before polling a feed again after streak failures in
// a row: Interval doubled per failure, at least the server's Retry-After,
// capped by MaxBackoff, plus jitter.
func (p *Poller) backoff(streak int, retryAfter time.Duration) time.Duration {
	d := p.cfg.Interval
	for i := 1; i < streak && d < p.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = max(d, retryAfter)
	return min(d, p.cfg.MaxBackoff) + p.jitter()
}

func (p *Poller) jitter() time.Duration {
	if p.cfg.Jitter <= 0 {
		return 0
	}
	return rand.N(p.cfg.Jitter)
}

// fetchFeed fetches the feed and handles its new items, updating st.
func (p *Poller) fetchFeed(ctx context.Context, log *slog.Logger, f Feed, st *FeedState, pages *pagePool, release func()) outcome {
	h := http.Header{"Accept": {feedAccept}}
	if st.ETag != "" {
		h.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		h.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := p.get(ctx, f.URL, h)
	answered := p.cfg.Now()
	if err == nil {
		err = resp.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return outcome{}
		}
		p.stats.feedErrors.Add(1)
		var fe *FetchError
		var hd *HostDeferredError
		var ra time.Duration
		if errors.As(err, &fe) {
			ra = fe.RetryAfter
		}
		if errors.As(err, &hd) {
			ra = hd.Wait
		}
		// Limits that could not be asked (the bus is down) are the bus's
		// failure: the feed is tried again within seconds.
		bus := errors.Is(err, errSharedLimits)
		log.Warn("cannot fetch feed", "err", err, "temporary", fault.IsTemporary(err), "retry_after", ra)
		return outcome{err: err, retryAfter: ra, bus: bus}
	}
	p.stats.feedsPolled.Add(1)
	fresh := responseFresh(resp.Header, answered)
	if resp.Status == http.StatusNotModified {
		p.stats.feedsNotModified.Add(1)
		log.Debug("feed not modified")
		return outcome{fresh: fresh, answered: answered}
	}
	var hp hintParser
	feed, hints, err := hp.parse(resp.Body)
	resp.Body = nil
	if err != nil {
		p.stats.feedErrors.Add(1)
		err = &FetchError{URL: f.URL, Status: resp.Status, Err: fmt.Errorf("%w: %v", ErrParseFeed, err)}
		log.Warn("cannot parse feed", "err", err)
		return outcome{err: err}
	}
	items := feedItems(feed, resp.FinalURL)
	feed = nil
	st.Cadence.FeedHints = hints
	st.Cadence.noteItems(items, p.cfg.Now())
	newItems := 0
	ids, repeats := itemIDs(f.URL, items)
	for _, i := range repeats {
		log.Warn("feed repeats an item; the repeat is skipped", "guid", items[i].GUID, "link", items[i].Link, "title", items[i].Title)
	}
	present := make(map[string]bool, len(items))
	r := &pageRound{p: p, log: log, f: f, failures: st.PageFailures, givenUp: st.GivenUp, blocked: map[string]bool{}}
	r.ctx, r.stop = context.WithCancel(ctx)
	defer r.stop()
	// Feeds list the newest first; queue the oldest first.
	for i := len(items) - 1; i >= 0; i-- {
		id := ids[i]
		if id == "" {
			continue
		}
		present[id] = true
		if r.ctx.Err() != nil {
			r.pending.Add(1)
			continue
		}
		if st.GivenUp[id] {
			p.stats.itemsSeen.Add(1)
			continue
		}
		bctx, cancel := context.WithTimeout(r.ctx, p.cfg.BusTimeout)
		seen, err := p.cfg.Seen.Seen(bctx, id)
		cancel()
		if err != nil {
			r.fail(fmt.Errorf("look up item %s of %s: %w", id, f.URL, err), true)
			p.stats.stateErrors.Add(1)
			r.pending.Add(1)
			continue
		}
		if seen {
			if !r.revisit(pages, items[i], id) {
				p.stats.itemsSeen.Add(1)
			}
			continue
		}
		r.mu.Lock()
		_, retried := r.failures[id]
		r.mu.Unlock()
		if !retried {
			newItems++
		}
		r.queue(pages, items[i], id)
	}
	release() // the pages need no fetch slot
	r.wg.Wait()
	st.Items = len(items)
	st.ItemsPublished += r.published.Load()
	st.PageFailures = keepPresent(r.failures, present)
	st.GivenUp = keepPresent(r.givenUp, present)
	if r.err != nil {
		return outcome{err: r.err, bus: r.bus}
	}
	if r.pending.Load() == 0 && ctx.Err() == nil {
		st.ETag = resp.Header.Get("ETag")
		st.LastModified = resp.Header.Get("Last-Modified")
	}
	return outcome{fresh: fresh, newItems: newItems, pending: r.pending.Load() > 0, answered: answered}
}

// keepPresent drops from m the items no longer in the feed; nil if none
// is left.
func keepPresent[V any](m map[string]V, present map[string]bool) map[string]V {
	for id := range m {
		if !present[id] {
			delete(m, id)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// get fetches the feed u within the per-host limits.
func (p *Poller) get(ctx context.Context, u string, h http.Header) (*Response, error) {
	return p.send(ctx, u, func(ctx context.Context) (*Response, error) { return p.client.Get(ctx, u, h) })
}

// send makes the request get to u within the per-host limits, spaced by
// HostSpacing or the site's Crawl-delay if longer. A 429 or 503 answer
// holds the host back, here and in every replica sharing Hosts, for its
// Retry-After (at most MaxBackoff) or HostBackoff. A request the limits
// kept from being sent gives a *FetchError wrapping errNotSent.
func (p *Poller) send(ctx context.Context, u string, get func(context.Context) (*Response, error)) (*Response, error) {
	host := hostOf(u)
	release, err := p.hosts.acquire(ctx, host, max(p.cfg.HostSpacing, p.robots.crawlDelay(u)))
	if err != nil {
		return nil, &FetchError{URL: u, Err: err}
	}
	resp, err := get(ctx)
	release()
	var status int
	var retryAfter time.Duration
	var fe *FetchError
	switch {
	case resp != nil:
		status, retryAfter = resp.Status, resp.RetryAfter
	case errors.As(err, &fe):
		status, retryAfter = fe.Status, fe.RetryAfter
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		d := p.cfg.HostBackoff
		if retryAfter > 0 {
			d = min(retryAfter, p.cfg.MaxBackoff)
		}
		p.log.Warn("host asked to slow down; no request to it for a while", "host", host, "url", u, "status", status, "wait", d)
		if derr := p.hosts.deferHost(context.WithoutCancel(ctx), host, d); derr != nil {
			p.log.Warn("cannot share a host's wait with the other replicas", "host", host, "err", derr)
		}
	}
	return resp, err
}

// hostOf is the lower-cased host of u with its port, if one is given: the
// server that per-host limits protect ("" if it has none).
func hostOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.ToLower(pu.Host)
}

// subjectSafe reports whether token can be one NATS subject token and a
// key-value key: 1 to 64 ASCII letters, digits, '-' or '_'.
func subjectSafe(token string) bool {
	if token == "" || len(token) > 64 {
		return false
	}
	for _, r := range token {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
