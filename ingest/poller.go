package ingest

import (
	"bytes"
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmcdole/gofeed"
)

// FetchErrorHeader is set in RawArticle.Header when the article's page could
// not be fetched and the item is published anyway (see Poller). Its value
// is the error; Status and Body are the failed response's, if one came
// (Status is 0 when none did).
const FetchErrorHeader = "Newsflow-Fetch-Error"

// Defaults of PollerConfig.
const (
	DefaultInterval        = 15 * time.Minute
	DefaultConcurrency     = 4
	DefaultPerHost         = 2
	DefaultMaxPageAttempts = 5
	maxDefaultBackoff      = 6 * time.Hour
	stateSaveTimeout       = 10 * time.Second
)

// feedAccept is the Accept header of feed requests.
const feedAccept = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"

// PollerConfig configures a Poller. Feeds, Publisher, State and Seen are
// required; zero values of the others take the defaults given.
type PollerConfig struct {
	// Feeds to watch. Their tokens must be distinct.
	Feeds []Feed
	// Client fetches feeds and pages; nil means NewClient(ClientOptions{}).
	Client *Client
	// Publisher receives the RawArticles.
	Publisher Publisher
	// State keeps per-feed state shared by replicas.
	State StateStore
	// Seen keeps the ids of items already published.
	Seen SeenStore
	// Interval between two polls of a feed (DefaultInterval).
	Interval time.Duration
	// Jitter is the most added at random to each Interval, so that feeds
	// listed together spread out (Interval/10; negative means none).
	Jitter time.Duration
	// MaxBackoff caps the delay after failed polls, which doubles from
	// Interval with each failure in a row (16×Interval, at most 6h, and
	// never less than Interval). It also caps a server's Retry-After.
	MaxBackoff time.Duration
	// Concurrency is how many feeds are polled at once (DefaultConcurrency).
	Concurrency int
	// PerHost is how many requests go to one host at once (DefaultPerHost).
	PerHost int
	// MaxPageAttempts is how many temporary failures of an article page are
	// retried before the item is published with its failure
	// (DefaultMaxPageAttempts).
	MaxPageAttempts int
	// RoundTimeout bounds one poll of one feed, its pages included; the
	// feed's claim lasts that long (Interval, between 1 and 10 minutes).
	RoundTimeout time.Duration
	// ScanEvery is how often Run looks for due feeds (Interval/10, between
	// 1 and 30 seconds).
	ScanEvery time.Duration
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
	// PageErrors counts article page fetches that failed.
	PageErrors int64 `json:"page_errors"`
	// PagesGivenUp counts items published with a page that failed for good.
	PagesGivenUp int64 `json:"pages_given_up"`
	// PublishErrors counts failed publishes; each ends its feed's round.
	PublishErrors int64 `json:"publish_errors"`
	// StateErrors counts failures of the state and seen stores.
	StateErrors int64 `json:"state_errors"`
}

type counters struct {
	feedsPolled, feedsNotModified, feedErrors, claimsLost, itemsSeen, itemsPublished,
	pagesFetched, pageErrors, pagesGivenUp, publishErrors, stateErrors atomic.Int64
}

// Poller polls feeds and publishes the articles of their new items.
//
// Each feed is polled every Interval (plus jitter). The due times live in
// the StateStore, so several Pollers (replicas, in separate processes) can
// share the same feeds: a Poller claims a due feed by saving its state with
// compare-and-set before fetching it, and only the one whose save succeeds
// polls it. A claim lasts RoundTimeout, so a feed whose poller died is
// picked up again after that.
//
// A poll sends the saved ETag and Last-Modified as If-None-Match and
// If-Modified-Since; a 304 ends it. Otherwise the feed is parsed (RSS,
// Atom or JSON Feed) and each item not in the SeenStore, oldest first, has
// its page fetched, is published as a RawArticle, and only then is marked
// seen. The new validators are saved only when every item was handled, so
// that items left for later come back in the next response.
//
// Failures never stop the Poller. A feed that cannot be fetched or parsed
// is logged and counted, and polled again after a delay that doubles with
// each failure in a row (capped by MaxBackoff; a Retry-After is honoured).
// A failed publish ends the feed's round; its items are tried next time.
//
// The rule for article pages: a temporary failure (network error, timeout,
// 408, 425, 429, 5xx) leaves the item unpublished, to be retried at the
// next poll of its feed, up to MaxPageAttempts failures in all; a 429 or
// 503 also defers the round's other pages on that host. A page that fails
// for good (another 4xx such as 404 or 410, a refused address, a body over
// the limit, no link at all) or that used up its attempts is published
// anyway, with its Status and Body as served (Status 0 and no body when no
// response came) and the error in the FetchErrorHeader header, so that the
// processor parks it with its error: nothing is dropped silently.
type Poller struct {
	cfg    PollerConfig
	log    *slog.Logger
	client *Client
	hosts  *hostLimiter
	stats  counters

	mu       sync.Mutex
	inflight map[string]bool
	nextLook map[string]time.Time // when to look at a feed's state again
}

// NewPoller checks c, fills in defaults, and returns a Poller.
func NewPoller(c PollerConfig) (*Poller, error) {
	switch {
	case len(c.Feeds) == 0:
		return nil, errors.New("ingest: PollerConfig.Feeds is empty: no feeds to poll")
	case c.Publisher == nil:
		return nil, errors.New("ingest: PollerConfig.Publisher is required")
	case c.State == nil:
		return nil, errors.New("ingest: PollerConfig.State is required")
	case c.Seen == nil:
		return nil, errors.New("ingest: PollerConfig.Seen is required")
	case c.Interval < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.Interval %s is negative", c.Interval)
	case c.MaxBackoff < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.MaxBackoff %s is negative", c.MaxBackoff)
	case c.Concurrency < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.Concurrency %d is negative", c.Concurrency)
	case c.PerHost < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.PerHost %d is negative", c.PerHost)
	case c.MaxPageAttempts < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.MaxPageAttempts %d is negative", c.MaxPageAttempts)
	case c.RoundTimeout < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.RoundTimeout %s is negative", c.RoundTimeout)
	case c.ScanEvery < 0:
		return nil, fmt.Errorf("ingest: PollerConfig.ScanEvery %s is negative", c.ScanEvery)
	}
	c.Feeds = slices.Clone(c.Feeds) // tokens are filled in below
	tokens := map[string]string{}
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
		if prev, dup := tokens[f.Token]; dup {
			return nil, fmt.Errorf("ingest: PollerConfig.Feeds: %s and %s have the same token %q", prev, f.URL, f.Token)
		}
		tokens[f.Token] = f.URL
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
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
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.PerHost == 0 {
		c.PerHost = DefaultPerHost
	}
	if c.MaxPageAttempts == 0 {
		c.MaxPageAttempts = DefaultMaxPageAttempts
	}
	if c.RoundTimeout == 0 {
		c.RoundTimeout = min(max(c.Interval, time.Minute), 10*time.Minute)
	}
	if c.ScanEvery == 0 {
		c.ScanEvery = min(max(c.Interval/10, time.Second), 30*time.Second)
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
	return &Poller{
		cfg:      c,
		log:      c.Logger,
		client:   client,
		hosts:    newHostLimiter(c.PerHost),
		inflight: map[string]bool{},
		nextLook: map[string]time.Time{},
	}, nil
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
		PageErrors:       s.pageErrors.Load(),
		PagesGivenUp:     s.pagesGivenUp.Load(),
		PublishErrors:    s.publishErrors.Load(),
		StateErrors:      s.stateErrors.Load(),
	}
}

// Run polls the feeds as they fall due until ctx is done. It then waits for
// the polls in flight to stop (they see ctx too) and returns nil.
func (p *Poller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, p.cfg.Concurrency)
	t := time.NewTicker(p.cfg.ScanEvery)
	defer t.Stop()
	p.log.Info("polling feeds", "feeds", len(p.cfg.Feeds), "interval", p.cfg.Interval, "replica", p.cfg.ReplicaID)
	for {
		p.dispatch(ctx, sem, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// PollDue polls every feed that is due now, once, and returns when they are
// done: one round of Run, for one-shot use and tests. It returns ctx's
// error if ctx ended.
func (p *Poller) PollDue(ctx context.Context) error {
	var wg sync.WaitGroup
	p.dispatch(ctx, make(chan struct{}, p.cfg.Concurrency), &wg)
	wg.Wait()
	return ctx.Err()
}

// dispatch claims the due feeds, earliest first, and polls each in its own
// goroutine, at most cap(sem) at once. It claims a feed only once a slot is
// free, leaving the rest to other replicas meanwhile.
func (p *Poller) dispatch(ctx context.Context, sem chan struct{}, wg *sync.WaitGroup) {
	now := p.cfg.Now()
	type cand struct {
		f    Feed
		look time.Time
	}
	var cands []cand
	p.mu.Lock()
	for _, f := range p.cfg.Feeds {
		if look := p.nextLook[f.Token]; !p.inflight[f.Token] && !look.After(now) {
			cands = append(cands, cand{f, look})
		}
	}
	p.mu.Unlock()
	slices.SortStableFunc(cands, func(a, b cand) int { return a.look.Compare(b.look) })
	for _, c := range cands {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		st, rev, ok, err := p.claim(ctx, c.f)
		if !ok {
			<-sem
			if err != nil {
				// The store is failing; the rest of this scan would only
				// repeat the error. Try again at the next one.
				return
			}
			continue
		}
		p.mu.Lock()
		p.inflight[c.f.Token] = true
		p.mu.Unlock()
		wg.Add(1)
		go func(f Feed) {
			defer wg.Done()
			defer func() {
				p.mu.Lock()
				delete(p.inflight, f.Token)
				p.mu.Unlock()
				<-sem
			}()
			p.poll(ctx, f, st, rev)
		}(c.f)
	}
}

// lookAt records when to look at the feed's state again: at due, but no
// later than an Interval from now, so that changes made elsewhere are seen.
func (p *Poller) lookAt(f Feed, due time.Time) {
	limit := p.cfg.Now().Add(p.cfg.Interval)
	if due.After(limit) {
		due = limit
	}
	p.mu.Lock()
	p.nextLook[f.Token] = due
	p.mu.Unlock()
}

// claim loads the feed's state and, if it is due, saves it claimed by this
// replica. It reports whether the claim succeeded, with the claimed state
// and its revision, and returns the store's error if it failed.
func (p *Poller) claim(ctx context.Context, f Feed) (FeedState, uint64, bool, error) {
	st, rev, err := p.cfg.State.LoadFeedState(ctx, f.Token)
	if err != nil {
		if ctx.Err() == nil {
			p.stats.stateErrors.Add(1)
			p.log.Warn("cannot load feed state", "feed", f.URL, "token", f.Token, "err", err)
			p.lookAt(f, p.cfg.Now().Add(p.cfg.ScanEvery))
		}
		return FeedState{}, 0, false, err
	}
	now := p.cfg.Now()
	if due := st.due(); rev != 0 && due.After(now) {
		p.lookAt(f, due)
		return FeedState{}, 0, false, nil
	}
	st.URL = f.URL
	st.ClaimedBy = p.cfg.ReplicaID
	st.ClaimedUntil = now.Add(p.cfg.RoundTimeout + p.cfg.ScanEvery)
	newRev, err := p.cfg.State.SaveFeedState(ctx, f.Token, st, rev)
	switch {
	case errors.Is(err, ErrStateConflict):
		p.stats.claimsLost.Add(1)
		p.log.Debug("feed claimed by another fetcher", "feed", f.URL, "token", f.Token)
		return FeedState{}, 0, false, nil
	case err != nil:
		if ctx.Err() == nil {
			p.stats.stateErrors.Add(1)
			p.log.Warn("cannot claim feed", "feed", f.URL, "token", f.Token, "err", err)
			p.lookAt(f, now.Add(p.cfg.ScanEvery))
		}
		return FeedState{}, 0, false, err
	}
	return st, newRev, true, nil
}

// outcome is how a feed's round went.
type outcome struct {
	err        error         // the round failed (feed error or publish error)
	retryAfter time.Duration // the feed's server asked to wait
}

// poll runs one round of the claimed feed f and saves its new state,
// releasing the claim.
func (p *Poller) poll(ctx context.Context, f Feed, st FeedState, rev uint64) {
	prevDue := st.NextDue
	started := p.cfg.Now()
	rctx, cancel := context.WithTimeout(ctx, p.cfg.RoundTimeout)
	out := p.round(rctx, f, &st)
	if out.err == nil && rctx.Err() != nil && ctx.Err() == nil {
		out.err = fmt.Errorf("poll of %s did not finish within RoundTimeout %s", f.URL, p.cfg.RoundTimeout)
		p.log.Warn("feed poll timed out", "feed", f.URL, "token", f.Token, "timeout", p.cfg.RoundTimeout)
	}
	cancel()
	now := p.cfg.Now()
	st.LastFetch = started.UTC()
	st.ClaimedBy, st.ClaimedUntil = "", time.Time{}
	switch {
	case ctx.Err() != nil:
		// Shutting down: release the feed as due as it was.
		st.NextDue = prevDue
	case out.err != nil:
		st.ErrorStreak++
		st.LastError = out.err.Error()
		st.NextDue = now.Add(p.backoff(st.ErrorStreak, out.retryAfter)).UTC()
	default:
		st.ErrorStreak = 0
		st.LastError = ""
		st.LastSuccess = now.UTC()
		st.NextDue = now.Add(p.cfg.Interval + p.jitter()).UTC()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateSaveTimeout)
	defer cancel()
	_, err := p.cfg.State.SaveFeedState(sctx, f.Token, st, rev)
	switch {
	case errors.Is(err, ErrStateConflict):
		p.stats.claimsLost.Add(1)
		p.log.Warn("feed state changed by another fetcher during a poll; its claim had run out", "feed", f.URL, "token", f.Token)
	case err != nil:
		p.stats.stateErrors.Add(1)
		p.log.Warn("cannot save feed state", "feed", f.URL, "token", f.Token, "err", err)
	}
	p.lookAt(f, st.NextDue)
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

// round fetches the feed and handles its new items, updating st.
func (p *Poller) round(ctx context.Context, f Feed, st *FeedState) outcome {
	log := p.log.With("feed", f.URL, "token", f.Token)
	h := http.Header{"Accept": {feedAccept}}
	if st.ETag != "" {
		h.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		h.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := p.get(ctx, f.URL, h)
	if err == nil {
		err = resp.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return outcome{}
		}
		p.stats.feedErrors.Add(1)
		var fe *FetchError
		var ra time.Duration
		if errors.As(err, &fe) {
			ra = fe.RetryAfter
		}
		log.Warn("cannot fetch feed", "err", err, "temporary", IsTemporary(err), "retry_after", ra)
		return outcome{err: err, retryAfter: ra}
	}
	p.stats.feedsPolled.Add(1)
	if resp.Status == http.StatusNotModified {
		p.stats.feedsNotModified.Add(1)
		log.Debug("feed not modified")
		return outcome{}
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(resp.Body))
	if err != nil {
		p.stats.feedErrors.Add(1)
		err = &FetchError{URL: f.URL, Status: resp.Status, Err: fmt.Errorf("%w: %v", ErrParseFeed, err)}
		log.Warn("cannot parse feed", "err", err)
		return outcome{err: err}
	}
	items := feedItems(feed, resp.FinalURL)
	present := make(map[string]bool, len(items))
	blocked := map[string]bool{} // hosts that asked us to slow down
	pending := 0
	var stop error
	// Feeds list the newest first; publish the oldest first.
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		id := ItemID(f.URL, it)
		present[id] = true
		if stop != nil || ctx.Err() != nil {
			pending++
			continue
		}
		seen, err := p.cfg.Seen.Seen(ctx, id)
		if err != nil {
			if ctx.Err() == nil {
				p.stats.stateErrors.Add(1)
				stop = fmt.Errorf("look up item %s of %s: %w", id, f.URL, err)
				log.Warn("cannot look up seen item", "item", id, "err", err)
			}
			pending++
			continue
		}
		if seen {
			p.stats.itemsSeen.Add(1)
			continue
		}
		later, err := p.item(ctx, log, f, it, id, st, blocked)
		if err != nil {
			stop = err
		}
		if later || err != nil {
			pending++
		}
	}
	for id := range st.PageFailures {
		if !present[id] {
			delete(st.PageFailures, id)
		}
	}
	if len(st.PageFailures) == 0 {
		st.PageFailures = nil
	}
	if stop != nil {
		return outcome{err: stop}
	}
	if pending == 0 && ctx.Err() == nil {
		st.ETag = resp.Header.Get("ETag")
		st.LastModified = resp.Header.Get("Last-Modified")
	}
	return outcome{}
}

// get fetches the feed u within the per-host limit.
func (p *Poller) get(ctx context.Context, u string, h http.Header) (*Response, error) {
	release, err := p.hosts.acquire(ctx, hostOf(u))
	if err != nil {
		return nil, &FetchError{URL: u, Err: err}
	}
	defer release()
	return p.client.Get(ctx, u, h)
}

// getPage fetches the article page u within the per-host limit.
func (p *Poller) getPage(ctx context.Context, u string, h http.Header) (*Response, error) {
	release, err := p.hosts.acquire(ctx, hostOf(u))
	if err != nil {
		return nil, &FetchError{URL: u, Err: err}
	}
	defer release()
	return p.client.GetPage(ctx, u, h)
}

// item fetches the page of a new item and publishes it, then marks it
// seen. It reports later when the item is left for a later poll, and
// returns an error when the round must stop (publish or seen store failed).
func (p *Poller) item(ctx context.Context, log *slog.Logger, f Feed, it FeedItem, id string, st *FeedState, blocked map[string]bool) (later bool, err error) {
	raw := RawArticle{
		SchemaVersion: RawSchemaVersion,
		ID:            id,
		Feed:          f.Token,
		FeedURL:       f.URL,
		Item:          it,
		URL:           it.Link,
	}
	log = log.With("item", id, "url", it.Link)
	var fail error
	if it.Link == "" {
		fail = ErrNoLink
	} else {
		host := hostOf(it.Link)
		if blocked[host] {
			return true, nil
		}
		resp, err := p.getPage(ctx, it.Link, http.Header{"Accept": {"text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}})
		if err == nil {
			raw.FinalURL = resp.FinalURL
			raw.Status = resp.Status
			raw.Header = resp.Header
			raw.Body = resp.Body
			err = resp.Err()
		} else {
			var fe *FetchError
			if errors.As(err, &fe) {
				raw.Status = fe.Status
			}
		}
		if err != nil && ctx.Err() != nil {
			return true, nil // cut short by shutdown or the round's timeout
		}
		if err == nil {
			p.stats.pagesFetched.Add(1)
		} else {
			fail = err
			p.stats.pageErrors.Add(1)
			if raw.Status == http.StatusTooManyRequests || raw.Status == http.StatusServiceUnavailable {
				blocked[host] = true
			}
			if IsTemporary(err) {
				if st.PageFailures == nil {
					st.PageFailures = map[string]int{}
				}
				st.PageFailures[id]++
				n := st.PageFailures[id]
				if n < p.cfg.MaxPageAttempts {
					log.Warn("cannot fetch article page; will retry at the next poll", "err", err, "attempt", n, "max_attempts", p.cfg.MaxPageAttempts)
					return true, nil
				}
				fail = fmt.Errorf("gave up after %d attempts: %w", n, err)
			}
		}
	}
	raw.FetchedAt = p.cfg.Now().UTC()
	if fail != nil {
		p.stats.pagesGivenUp.Add(1)
		hdr := http.Header(raw.Header).Clone()
		if hdr == nil {
			hdr = http.Header{}
		}
		hdr.Set(FetchErrorHeader, fail.Error())
		raw.Header = hdr
		log.Warn("publishing item whose page cannot be fetched", "err", fail, "status", raw.Status)
	}
	if err := p.cfg.Publisher.PublishRaw(ctx, raw); err != nil {
		if ctx.Err() != nil {
			return true, nil
		}
		p.stats.publishErrors.Add(1)
		log.Error("cannot publish raw article; the feed's round stops", "err", err)
		return true, fmt.Errorf("publish item %s of %s: %w", id, f.URL, err)
	}
	p.stats.itemsPublished.Add(1)
	delete(st.PageFailures, id)
	if err := p.cfg.Seen.MarkSeen(ctx, id); err != nil {
		p.stats.stateErrors.Add(1)
		log.Warn("cannot mark item seen", "err", err)
		return false, fmt.Errorf("mark item %s of %s seen: %w", id, f.URL, err)
	}
	log.Debug("published raw article", "status", raw.Status, "bytes", len(raw.Body))
	return false, nil
}

// hostOf is the lower-cased host of u ("" if it has none).
func hostOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return pu.Hostname()
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
