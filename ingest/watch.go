package ingest

import (
	"context"
	"time"
)

// watchRegistryRetry is how soon a failed watch of the registry starts
// again.
const watchRegistryRetry = 2 * time.Second

// watchRegistry applies the registry's feeds to the schedule until ctx
// ends, watching again after a failure (the watch starts with every feed,
// removals included, so nothing is missed).
func (p *Poller) watchRegistry(ctx context.Context) {
	for ctx.Err() == nil {
		err := p.cfg.Registry.WatchFeeds(ctx, p.SetFeed)
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("watch of the feed registry failed; watching again", "err", err, "retry_in", watchRegistryRetry)
		select {
		case <-ctx.Done():
		case <-time.After(watchRegistryRetry):
		}
	}
}

// SetFeed starts polling f (active) or stops (not active; only f.Token
// counts then). A feed already polled stays on its schedule; a feed
// added, or resumed, is looked at now and polled when its saved state says
// it is due. A round under way when its feed stops finishes; the feed
// added again meanwhile is not polled twice at once.
func (p *Poller) SetFeed(f Feed, active bool) {
	if f.Token == "" {
		f.Token = FeedToken(f.URL)
	}
	p.mu.Lock()
	_, known := p.feeds[f.Token]
	switch {
	case !active && known:
		delete(p.feeds, f.Token)
		delete(p.nextLook, f.Token) // its queue entry is now stale
		delete(p.reserved, f.Token)
		p.log.Info("feed no longer polled", "token", f.Token)
	case active && !known && ValidToken(f.Token):
		if _, err := normalizeFeedURL(f.URL); err != nil {
			p.log.Warn("registry feed not polled", "token", f.Token, "err", err)
			break
		}
		p.feeds[f.Token] = f
		if !p.inRound[f.Token] { // else its round, when it ends, schedules it
			p.lookAtLocked(f.Token, time.Time{})
		}
		p.log.Info("feed polled", "feed", f.URL, "token", f.Token)
	}
	p.mu.Unlock()
	p.signal()
}
