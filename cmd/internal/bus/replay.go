package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Replay hands fn each message of stream, in order, from the first one
// stored at or after since (zero: from the start), up to the last message
// stored when Replay was called. It reads through an ordered consumer of
// its own, so the stages' durable consumers are not disturbed. It returns
// how many messages fn was handed, and stops at the first error fn returns.
func (b *Bus) Replay(ctx context.Context, stream string, since time.Time, fn func(context.Context, Msg) error) (int, error) {
	s, err := b.js.Stream(ctx, stream)
	if err != nil {
		return 0, fmt.Errorf("bus: replay %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: replay %s: %w", stream, err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 || (!since.IsZero() && since.After(info.State.LastTime)) {
		return 0, nil
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	c, err := b.js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return 0, fmt.Errorf("bus: replay %s: %w", stream, err)
	}
	it, err := c.Messages()
	if err != nil {
		return 0, fmt.Errorf("bus: replay %s: %w", stream, err)
	}
	defer it.Stop()
	n := 0
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return n, fmt.Errorf("bus: replay %s: %w", stream, err)
		}
		md, err := m.Metadata()
		if err != nil {
			return n, fmt.Errorf("bus: replay %s: %w", stream, err)
		}
		mm, err := b.msg(ctx, m)
		if err != nil {
			return n, err
		}
		if err := fn(ctx, mm); err != nil {
			return n, err
		}
		n++
		if md.Sequence.Stream >= last {
			return n, nil
		}
	}
}
