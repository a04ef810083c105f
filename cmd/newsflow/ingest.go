package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
)

// newPoller is wired once the bus's feed-state buckets land.
func newPoller(ctx context.Context, cfg config, b *bus.Bus, log *slog.Logger) (*ingest.Poller, error) {
	return nil, errors.New("ingest: not wired yet")
}
