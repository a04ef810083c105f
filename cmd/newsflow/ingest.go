package main

import (
	"context"
	"log/slog"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
)

// newPoller wires the fetcher: the feed list, the guarded HTTP client, and
// the feed-state and seen-item buckets of the bus.
func newPoller(ctx context.Context, cfg config, b *bus.Bus, log *slog.Logger) (*ingest.Poller, error) {
	feeds := cfg.feedList
	if feeds == nil { // a config not made by parseConfig
		var err error
		if feeds, err = loadFeeds(cfg.feeds); err != nil {
			return nil, err
		}
	}
	state, seen, err := b.FeedStores(ctx)
	if err != nil {
		return nil, err
	}
	return ingest.NewPoller(ingest.PollerConfig{
		Feeds:       feeds,
		Client:      ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: cfg.allowPrivate}),
		Publisher:   rawPublisher{b},
		State:       state,
		Seen:        seen,
		Interval:    cfg.interval,
		MinInterval: cfg.minInterval,
		MaxInterval: cfg.maxInterval,
		Logger:      log.With("stage", "ingest"),
	})
}
