package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
)

// newPoller wires the fetcher: the feed list, the guarded HTTP client, and
// the feed-state and seen-item buckets of the bus. observe is told how long
// each fetch took (see ingest.ClientOptions.Observe).
func newPoller(ctx context.Context, cfg config, b *bus.Bus, log *slog.Logger, observe func(kind string, d time.Duration)) (*ingest.Poller, error) {
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
		Feeds:     feeds,
		Client:    ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: cfg.allowPrivate, Observe: observe}),
		Publisher: rawPublisher{b},
		State:     state,
		Seen:      seen,
		Interval:  cfg.interval,
		Logger:    log.With("stage", "ingest"),
	})
}
