package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
)

// newPoller wires the fetcher: the feed list, the guarded HTTP client, and
// the feed-state and seen-item buckets of the bus.
func newPoller(ctx context.Context, cfg config, b *bus.Bus, log *slog.Logger) (*ingest.Poller, error) {
	feeds, err := ingest.LoadFeedList(cfg.feeds)
	if err != nil {
		return nil, fmt.Errorf("--feeds: %w", err)
	}
	state, seen, err := b.FeedStores(ctx)
	if err != nil {
		return nil, err
	}
	return ingest.NewPoller(ingest.PollerConfig{
		Feeds:     feeds,
		Client:    ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: cfg.allowPrivate}),
		Publisher: rawPublisher{b},
		State:     state,
		Seen:      seen,
		Interval:  cfg.interval,
		Logger:    log.With("stage", "ingest"),
	})
}
