package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/api"
	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
)

// newPoller wires the fetcher: the feed registry (seeded with the feed
// list: the list only adds feeds), the guarded HTTP client, and the
// feed-state, seen-item and per-host buckets of the bus. observe is told
// how long each fetch took (see ingest.ClientOptions.Observe).
func newPoller(ctx context.Context, cfg config, b *bus.Bus, log *slog.Logger, observe func(kind string, d time.Duration)) (*ingest.Poller, error) {
	feeds := cfg.feedList
	if feeds == nil && cfg.feeds != "" { // a config not made by parseConfig
		var err error
		if feeds, err = loadFeeds(cfg.feeds); err != nil {
			return nil, err
		}
	}
	reg, err := b.FeedRegistry(ctx)
	if err != nil {
		return nil, err
	}
	added, err := reg.Seed(ctx, feeds)
	if err != nil {
		return nil, fmt.Errorf("--feeds: seed the feed registry: %w", err)
	}
	if cfg.feeds != "" {
		log.Info("feed registry seeded from the feed list", "file", cfg.feeds, "listed", len(feeds), "added", added)
	}
	if all, err := reg.Feeds(ctx); err == nil && len(all) == 0 {
		log.Warn("no feeds registered: add some with 'newsflow feeds add URL', POST /api/v1/feeds, or --feeds FILE")
	}
	state, seen, err := b.FeedStores(ctx)
	if err != nil {
		return nil, err
	}
	hosts, err := b.HostLeases(ctx)
	if err != nil {
		return nil, err
	}
	return ingest.NewPoller(ingest.PollerConfig{
		Registry:    reg,
		Client:      ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: cfg.allowPrivate, UserAgent: cfg.userAgent, Observe: observe}),
		Publisher:   rawPublisher{b},
		State:       state,
		Seen:        seen,
		Hosts:       hosts,
		Interval:    cfg.interval,
		MinInterval: cfg.minInterval,
		MaxInterval: cfg.maxInterval,
		PerHost:     cfg.perHost,
		HostSpacing: cfg.hostSpacing,
		Logger:      log.With("stage", "ingest"),
	})
}

// feedSources is where the feed API and `newsflow feeds` read and change
// the feeds: the registry and fetch state on the bus, the parked stream,
// and the store's counts when this process has one.
func (p *pipeline) feedSources(ctx context.Context) (api.Feeds, error) {
	return feedSources(ctx, p.bus, p.db, p.cfg.allowPrivate)
}

func feedSources(ctx context.Context, b *bus.Bus, db any, allowPrivate bool) (api.Feeds, error) {
	reg, err := b.FeedRegistry(ctx)
	if err != nil {
		return api.Feeds{}, err
	}
	state, _, err := b.FeedStores(ctx)
	if err != nil {
		return api.Feeds{}, err
	}
	f := api.Feeds{Registry: reg, States: state, Parked: b,
		Finder: ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: allowPrivate})}
	if c, ok := db.(api.FeedCounter); ok {
		f.Counts = c
	}
	return f, nil
}
