package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/newsflow/newsflow/ingest/fault"
)

// pageRound is the pages of one feed's round in the page pool.
type pageRound struct {
	p    *Poller
	log  *slog.Logger
	f    Feed
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	pending   atomic.Int64 // items left for a later poll
	published atomic.Int64 // items published in this round

	mu       sync.Mutex
	failures map[string]int  // page failures by item id, as in FeedState
	givenUp  map[string]bool // items published with their failure, as in FeedState
	blocked  map[string]bool // hosts that asked us to slow down
	err      error           // the first error that stopped the round
	bus      bool            // ... which came from the bus
}

// fail stops the round with err, the first such error.
func (r *pageRound) fail(err error, bus bool) {
	r.mu.Lock()
	if r.err == nil {
		r.err, r.bus = err, bus
		r.log.Warn("the feed's round stops", "err", err)
	}
	r.mu.Unlock()
	r.stop()
}

// queue sends the item's page to the pool.
func (r *pageRound) queue(pages *pagePool, it FeedItem, id string) {
	r.wg.Add(1)
	job := func() {
		defer r.wg.Done()
		if r.item(it, id) {
			r.pending.Add(1)
		}
	}
	if it.Link == "" {
		go job() // nothing to fetch
		return
	}
	pages.submit(hostOf(it.Link), job)
}

// item fetches the page of a new item and publishes it, then marks it
// seen. It reports whether the item is left for a later poll.
func (r *pageRound) item(it FeedItem, id string) (later bool) {
	p, ctx := r.p, r.ctx
	if ctx.Err() != nil {
		return true
	}
	raw := RawArticle{
		SchemaVersion: RawSchemaVersion,
		ID:            id,
		Feed:          r.f.Token,
		FeedURL:       r.f.URL,
		Item:          it,
		URL:           it.Link,
	}
	log := r.log.With("item", id, "url", it.Link)
	var fail error
	if it.Link == "" {
		fail = ErrNoLink
	} else {
		host := hostOf(it.Link)
		r.mu.Lock()
		blocked := r.blocked[host]
		r.mu.Unlock()
		if blocked {
			return true
		}
		resp, err := r.fetch(ctx, it.Link, http.Header{"Accept": {pageAccept}})
		if errors.Is(err, errNotSent) {
			// The host asked to wait, its robots.txt is known to be
			// unavailable, or the limits shared with the other replicas
			// cannot be asked: no attempt was made, and the host's other
			// pages wait too.
			if ctx.Err() == nil {
				log.Warn("article page left for the next poll", "err", err)
				r.mu.Lock()
				r.blocked[host] = true
				r.mu.Unlock()
			}
			return true
		}
		if err == nil {
			raw.FinalURL = resp.FinalURL
			raw.Status = resp.Status
			raw.Header = resp.Header
			raw.Body = resp.Body
			err = resp.Err()
		} else {
			var fe *FetchError
			if errors.As(err, &fe) && fe.URL == it.Link {
				raw.Status = fe.Status // not that of a robots.txt
			}
		}
		if err != nil && ctx.Err() != nil {
			return true // cut short by shutdown or the round's end
		}
		if err == nil {
			p.stats.pagesFetched.Add(1)
		} else {
			fail = err
			p.stats.pageErrors.Add(1)
			r.mu.Lock()
			if raw.Status == http.StatusTooManyRequests || raw.Status == http.StatusServiceUnavailable ||
				errors.Is(err, ErrRobotsUnavailable) {
				r.blocked[host] = true
			}
			n := 0
			if fault.IsTemporary(err) {
				if r.failures == nil {
					r.failures = map[string]int{}
				}
				r.failures[id]++
				n = r.failures[id]
			}
			r.mu.Unlock()
			if n > 0 {
				if n < p.cfg.MaxPageAttempts {
					log.Warn("cannot fetch article page; will retry at the next poll", "err", err, "attempt", n, "max_attempts", p.cfg.MaxPageAttempts)
					return true
				}
				fail = fmt.Errorf("gave up after %d attempts: %w", n, err)
			}
		}
	}
	raw.FetchedAt = p.cfg.Now().UTC()
	if errors.Is(fail, ErrRobotsDisallowed) {
		p.stats.pagesDisallowed.Add(1)
	}
	if fail != nil {
		p.stats.pagesGivenUp.Add(1)
		raw.FetchError = fail.Error()
		log.Warn("publishing item whose page cannot be fetched", "err", fail, "status", raw.Status)
	}
	if !r.publish(ctx, raw, "item "+id) {
		return true
	}
	r.published.Add(1)
	r.mu.Lock()
	delete(r.failures, id)
	if fail != nil && !errors.Is(fail, ErrRobotsDisallowed) {
		if r.givenUp == nil {
			r.givenUp = map[string]bool{}
		}
		r.givenUp[id] = true
	}
	r.mu.Unlock()
	if fail != nil && !errors.Is(fail, ErrRobotsDisallowed) {
		return false // not seen: it failed (see FeedState.GivenUp)
	}
	bctx, cancel := context.WithTimeout(ctx, p.cfg.BusTimeout)
	defer cancel()
	if err := r.markSeen(bctx, id, it, raw); err != nil {
		p.stats.stateErrors.Add(1)
		r.fail(fmt.Errorf("mark item %s of %s seen: %w", id, r.f.URL, err), true)
		return false
	}
	log.Debug("published raw article", "status", raw.Status, "bytes", len(raw.Body))
	return false
}

// publish publishes raw (what names it in an error) within the bus
// timeout, and reports whether it did. A failure is recorded on the round:
// an outage is retried within seconds; a publish that can never succeed
// (the error says it is permanent) waits for the backoff.
func (r *pageRound) publish(ctx context.Context, raw RawArticle, what string) bool {
	p := r.p
	bctx, cancel := context.WithTimeout(ctx, p.cfg.BusTimeout)
	defer cancel()
	if err := p.cfg.Publisher.PublishRaw(bctx, raw); err != nil {
		if ctx.Err() == nil {
			p.stats.publishErrors.Add(1)
			r.fail(fmt.Errorf("publish %s of %s: %w", what, r.f.URL, err), !fault.IsPermanent(err))
		}
		return false
	}
	p.stats.itemsPublished.Add(1)
	return true
}

// fetch gets the page at link with header h if the site's robots.txt
// allows it, within the per-host limits. If the limits shared with the
// other replicas cannot be asked, the bus is down: the round stops as for
// a failed publish, so that the feed is polled again as soon as the bus is
// back, not an interval later with its pages left behind.
func (r *pageRound) fetch(ctx context.Context, link string, h http.Header) (*Response, error) {
	p := r.p
	err := p.robots.check(ctx, link)
	var resp *Response
	if err == nil {
		resp, err = p.send(ctx, link, func(ctx context.Context) (*Response, error) {
			return p.client.GetPage(ctx, link, h)
		})
	}
	if errors.Is(err, errSharedLimits) {
		r.fail(err, true)
	}
	return resp, err
}

// pageAccept is the Accept header of article page requests.
const pageAccept = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
