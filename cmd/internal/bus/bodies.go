package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// bodyGrace keeps an object that no message references yet: its message is
// published right after the object is put, within the publish's timeout.
const bodyGrace = 10 * time.Minute

// SweepBodies removes the objects of BucketBodies that no message in
// StreamRaw, StreamArticles or StreamParked references any more (their
// messages were removed by age or size, or purged) and that are older than
// grace. It returns how many it removed. The streams are read headers only.
func (b *Bus) SweepBodies(ctx context.Context, grace time.Duration) (int, error) {
	objs, err := b.bodies.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("bus: list %s: %w", BucketBodies, err)
	}
	// Objects are listed before the streams are read: an object put after
	// the list is not a candidate, and one listed whose message is
	// published during the read is within grace.
	used := map[string]bool{}
	for _, stream := range []string{StreamRaw, StreamArticles, StreamParked} {
		if err := b.eachHeader(ctx, stream, func(name string) { used[name] = true }); err != nil {
			return 0, err
		}
	}
	removed := 0
	for _, o := range objs {
		if used[o.Name] || time.Since(o.ModTime) < grace {
			continue
		}
		if err := b.bodies.Delete(ctx, o.Name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return removed, fmt.Errorf("bus: remove %s/%s: %w", BucketBodies, o.Name, err)
		}
		removed++
	}
	return removed, nil
}

// eachHeader calls fn with the payload object each message of stream refers
// to, reading up to the last message stored when it started.
func (b *Bus) eachHeader(ctx context.Context, stream string, fn func(object string)) error {
	s, err := b.js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("bus: %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("bus: %s: %w", stream, err)
	}
	if info.State.Msgs == 0 {
		return nil
	}
	c, err := b.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{HeadersOnly: true})
	if err != nil {
		return fmt.Errorf("bus: read %s: %w", stream, err)
	}
	it, err := c.Messages()
	if err != nil {
		return fmt.Errorf("bus: read %s: %w", stream, err)
	}
	defer it.Stop()
	for {
		// Messages removed while it reads can leave nothing more to
		// deliver: give up this round rather than wait.
		nctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		m, err := it.Next(jetstream.NextContext(nctx))
		cancel()
		if err != nil {
			return fmt.Errorf("bus: read %s: %w", stream, err)
		}
		if name := m.Headers().Get(HeaderPayloadObject); name != "" {
			fn(name)
		}
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("bus: read %s: %w", stream, err)
		}
		if md.Sequence.Stream >= info.State.LastSeq || md.NumPending == 0 {
			return nil
		}
	}
}

// startSweeper runs SweepBodies every period until Close.
func (b *Bus) startSweeper(every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = cancel
	b.sweeping.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := b.SweepBodies(ctx, bodyGrace)
			switch {
			case err != nil && ctx.Err() == nil:
				b.log.Warn("large payloads of removed messages not swept", "bucket", BucketBodies, "err", err)
			case n > 0:
				b.log.Info("swept large payloads of removed messages", "bucket", BucketBodies, "removed", n)
			}
		}
	})
}
