package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// claimed is a feed state this Poller saved with its claim, and its
// revision.
type claimed struct {
	st  FeedState
	rev uint64
}

// claim returns the feed's state claimed by this Poller and its revision.
// If the feed is not due, or claimed by another, it returns when to look
// again instead; if the store failed, its error.
func (p *Poller) claim(ctx context.Context, f Feed) (FeedState, uint64, time.Time, error) {
	now := p.cfg.Now()
	p.mu.Lock()
	r, ok := p.reserved[f.Token]
	delete(p.reserved, f.Token)
	p.mu.Unlock()
	if ok && r.st.ClaimedUntil.Sub(now) > p.cfg.ClaimTTL/2 {
		if r.st.NextDue.After(now) {
			p.mu.Lock()
			p.reserved[f.Token] = r
			p.mu.Unlock()
			return FeedState{}, 0, r.st.NextDue, nil
		}
		// Still ours, with time to renew it: no need to read or write.
		return r.st, r.rev, time.Time{}, nil
	}
	bctx, cancel := context.WithTimeout(ctx, p.cfg.BusTimeout)
	defer cancel()
	st, rev, err := p.cfg.State.LoadFeedState(bctx, f.Token)
	if err != nil {
		p.storeFailed(ctx, "cannot load feed state", f, err)
		return FeedState{}, 0, time.Time{}, err
	}
	if due := st.due(); rev != 0 && due.After(now) && st.ClaimedBy != p.cfg.ReplicaID {
		return FeedState{}, 0, due, nil
	}
	if st.NextDue.After(now) {
		return FeedState{}, 0, st.NextDue, nil // our own claim, not due yet
	}
	st.URL = f.URL
	st.ClaimedBy = p.cfg.ReplicaID
	st.ClaimedUntil = now.Add(p.cfg.ClaimTTL)
	newRev, err := p.cfg.State.SaveFeedState(bctx, f.Token, st, rev)
	switch {
	case errors.Is(err, ErrStateConflict):
		p.stats.claimsLost.Add(1)
		p.log.Debug("feed claimed by another fetcher", "feed", f.URL, "token", f.Token)
		return FeedState{}, 0, now.Add(p.cfg.ClaimTTL), nil
	case err != nil:
		p.storeFailed(ctx, "cannot claim feed", f, err)
		return FeedState{}, 0, time.Time{}, err
	}
	return st, newRev, time.Time{}, nil
}

// storeFailed counts and logs a failure of the state store, and holds back
// new claims for storeRetry: one warning per outage, not one per feed.
func (p *Poller) storeFailed(ctx context.Context, msg string, f Feed, err error) {
	if ctx.Err() != nil {
		return
	}
	p.stats.stateErrors.Add(1)
	now := p.cfg.Now()
	p.mu.Lock()
	first := !p.storeDown.After(now)
	p.storeDown = now.Add(storeRetry)
	p.mu.Unlock()
	if first {
		p.log.Warn(msg+"; claims paused", "feed", f.URL, "token", f.Token, "err", err, "retry_in", storeRetry)
	}
}

// saveClaimed saves st, a state this Poller has claimed, at rev. A save
// that timed out may still have been stored (a client resends what it
// buffered once it reconnects), leaving a later revision that is the
// Poller's own: if the state at hand is still claimed by this Poller, st is
// saved at that revision instead. A claim by another gives ErrStateConflict.
func (p *Poller) saveClaimed(ctx context.Context, token string, st FeedState, rev uint64) (uint64, error) {
	newRev, err := p.cfg.State.SaveFeedState(ctx, token, st, rev)
	if !errors.Is(err, ErrStateConflict) {
		return newRev, err
	}
	cur, curRev, lerr := p.cfg.State.LoadFeedState(ctx, token)
	if lerr != nil || cur.ClaimedBy != p.cfg.ReplicaID {
		return 0, err
	}
	return p.cfg.State.SaveFeedState(ctx, token, st, curRev)
}

// heartbeat keeps a round's claim alive.
type heartbeat struct {
	mu   sync.Mutex
	rev  uint64
	lost bool
	done chan struct{}
	wg   sync.WaitGroup
}

// heartbeat renews the claim of st (at rev) every ClaimTTL/3 until stopped.
// If the claim was taken, or cannot be renewed before it runs out, it
// cancels the round.
func (p *Poller) heartbeat(ctx context.Context, cancel func(), log *slog.Logger, f Feed, st FeedState, rev uint64) *heartbeat {
	h := &heartbeat{rev: rev, done: make(chan struct{})}
	h.wg.Go(func() {
		t := time.NewTicker(p.cfg.ClaimTTL / 3)
		defer t.Stop()
		until := st.ClaimedUntil
		for {
			select {
			case <-h.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now := p.cfg.Now()
			st.ClaimedUntil = now.Add(p.cfg.ClaimTTL)
			h.mu.Lock()
			bctx, bcancel := context.WithTimeout(ctx, min(p.cfg.BusTimeout, max(until.Sub(now), time.Millisecond)))
			newRev, err := p.saveClaimed(bctx, f.Token, st, h.rev)
			bcancel()
			switch {
			case err == nil:
				h.rev = newRev
				until = st.ClaimedUntil
			case errors.Is(err, ErrStateConflict):
				h.lost = true
				log.Warn("claim on feed taken by another fetcher; the round stops", "err", err)
				cancel()
			case !p.cfg.Now().Before(until.Add(-p.cfg.ClaimTTL / 6)):
				h.lost = true
				log.Warn("cannot renew claim on feed before it runs out; the round stops", "err", err)
				cancel()
			default:
				log.Warn("cannot renew claim on feed; trying again", "err", err, "claimed_until", until)
			}
			h.mu.Unlock()
			if h.lost {
				return
			}
		}
	})
	return h
}

// stop ends the heartbeat and returns the claim's revision, and whether
// the claim was lost.
func (h *heartbeat) stop() (uint64, bool) {
	close(h.done)
	h.wg.Wait()
	return h.rev, h.lost
}
