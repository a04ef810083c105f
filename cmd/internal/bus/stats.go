package bus

import (
	"context"
	"fmt"
	"time"
)

// StreamStats is the state of one of newsflow's streams and of its durable
// consumers.
type StreamStats struct {
	Name     string `json:"name"`
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	// First and Last are the times of the oldest and newest message kept.
	First     time.Time       `json:"first,omitzero"`
	Last      time.Time       `json:"last,omitzero"`
	Consumers []ConsumerStats `json:"consumers"`
}

// ConsumerStats is a durable consumer's backlog: Pending messages not yet
// delivered, AckPending delivered and not yet acknowledged.
type ConsumerStats struct {
	Name        string `json:"name"`
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	// Delivered is the stream sequence last delivered.
	Delivered  uint64    `json:"delivered"`
	LastActive time.Time `json:"last_active,omitzero"`
}

// Stats returns the state of the raw, articles and parked streams and of
// their durable consumers.
func (b *Bus) Stats(ctx context.Context) ([]StreamStats, error) {
	var out []StreamStats
	for _, name := range []string{StreamRaw, StreamArticles, StreamParked} {
		s, err := b.js.Stream(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("bus: stats of %s: %w", name, err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("bus: stats of %s: %w", name, err)
		}
		st := StreamStats{Name: name, Messages: info.State.Msgs, Bytes: info.State.Bytes, Consumers: []ConsumerStats{}}
		if info.State.Msgs > 0 {
			st.First, st.Last = info.State.FirstTime.UTC(), info.State.LastTime.UTC()
		}
		consumers := s.ListConsumers(ctx)
		for ci := range consumers.Info() {
			if ci.Config.Durable == "" {
				continue // a replay's ordered consumer
			}
			c := ConsumerStats{Name: ci.Name, Pending: ci.NumPending, AckPending: ci.NumAckPending,
				Redelivered: ci.NumRedelivered, Delivered: ci.Delivered.Stream}
			if ci.Delivered.Last != nil {
				c.LastActive = ci.Delivered.Last.UTC()
			}
			st.Consumers = append(st.Consumers, c)
		}
		if err := consumers.Err(); err != nil {
			return nil, fmt.Errorf("bus: consumers of %s: %w", name, err)
		}
		out = append(out, st)
	}
	return out, nil
}
