package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Parked is a message that failed for good, as kept in StreamParked.
type Parked struct {
	// Seq is its sequence in StreamParked: the handle to retry it by.
	Seq uint64 `json:"seq"`
	// Stage is the consumer that parked it, Subject where it was published.
	Stage   string `json:"stage"`
	Subject string `json:"subject"`
	// Error is why it failed, after Deliveries tries.
	Error      string    `json:"error"`
	Deliveries int       `json:"deliveries"`
	Parked     time.Time `json:"parked"`
	Size       int       `json:"size"`
}

// Errors of RetryParked.
var (
	// ErrNotParked: no parked message has the sequence number.
	ErrNotParked = errors.New("no such parked message")
	// ErrStaysParked: the message could not be made anew (its page still
	// fails); it stays parked.
	ErrStaysParked = errors.New("stays parked")
)

// EachParked calls fn for each parked message, oldest first.
func (b *Bus) EachParked(ctx context.Context, fn func(Parked) error) error {
	_, err := b.eachParkedAfter(ctx, 0, fn)
	return err
}

// errEnough stops eachParkedAfter early.
var errEnough = errors.New("enough")

// ParkedAfter returns up to limit parked messages with a sequence number
// above after, oldest first, and how many are parked in all.
func (b *Bus) ParkedAfter(ctx context.Context, after uint64, limit int) ([]Parked, uint64, error) {
	var out []Parked
	total, err := b.eachParkedAfter(ctx, after, func(p Parked) error {
		if len(out) == limit {
			return errEnough
		}
		out = append(out, p)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, 0, err
	}
	return out, total, nil
}

// eachParkedAfter calls fn for each parked message with a sequence number
// above after, oldest first, and returns how many are parked in all.
func (b *Bus) eachParkedAfter(ctx context.Context, after uint64, fn func(Parked) error) (uint64, error) {
	s, err := b.js.Stream(ctx, StreamParked)
	if err != nil {
		return 0, fmt.Errorf("bus: %s: %w", StreamParked, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("bus: %s: %w", StreamParked, err)
	}
	for seq := max(info.State.FirstSeq, after+1); info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("bus: %s message %d: %w", StreamParked, seq, err)
		}
		n, _ := strconv.Atoi(m.Header.Get(HeaderDeliveries))
		if err := fn(Parked{Seq: seq, Stage: m.Header.Get(HeaderStage), Subject: m.Header.Get(HeaderSubject),
			Error: m.Header.Get(HeaderError), Deliveries: n, Parked: m.Time.UTC(), Size: len(m.Data)}); err != nil {
			return info.State.Msgs, err
		}
	}
	return info.State.Msgs, nil
}

// RetryParked publishes the parked message seq again on its original
// subject, for its stage to take up anew, and removes it from StreamParked.
// renew, unless nil, makes the payload anew from the original subject and
// payload; if it fails, the message stays parked and its error is returned.
func (b *Bus) RetryParked(ctx context.Context, seq uint64, renew func(subject string, data []byte) ([]byte, error)) error {
	s, err := b.js.Stream(ctx, StreamParked)
	if err != nil {
		return fmt.Errorf("bus: %s: %w", StreamParked, err)
	}
	m, err := s.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("bus: parked message %d: %w", seq, ErrNotParked)
	}
	if err != nil {
		return fmt.Errorf("bus: parked message %d: %w", seq, err)
	}
	subject := m.Header.Get(HeaderSubject)
	if subject == "" {
		return fmt.Errorf("bus: parked message %d has no %s header", seq, HeaderSubject)
	}
	out := &nats.Msg{Subject: subject, Data: m.Data, Header: nats.Header{}}
	for k, v := range m.Header {
		switch k {
		case HeaderError, HeaderStage, HeaderSubject, HeaderDeliveries, HeaderStreamSeq:
		default:
			out.Header[k] = v
		}
	}
	// A new message id: the original's may still be in the duplicate window.
	msgID := fmt.Sprintf("retry-%d-%d", seq, time.Now().UnixNano())
	if renew != nil {
		data := m.Data
		if name := m.Header.Get(HeaderPayloadObject); name != "" {
			if data, err = b.bodies.GetBytes(ctx, name); err != nil {
				return fmt.Errorf("bus: payload object %s/%s of parked message %d: %w", BucketBodies, name, seq, err)
			}
		}
		if out.Data, err = renew(subject, data); err != nil {
			return fmt.Errorf("bus: parked message %d %w: %w", seq, ErrStaysParked, err)
		}
		out.Header.Del(HeaderPayloadObject)
		if err := b.publish(ctx, out, msgID); err != nil {
			return fmt.Errorf("bus: republish parked message %d: %w", seq, err)
		}
	} else if _, err := b.js.PublishMsg(ctx, out, jetstream.WithMsgID(msgID)); err != nil {
		return fmt.Errorf("bus: republish parked message %d to %s: %w", seq, subject, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("bus: parked message %d was republished but not removed: %w", seq, err)
	}
	return nil
}

// EachParkedError calls fn with the original subject and the error of
// every parked message, oldest first. It reads headers only, in batches:
// cheap enough to count parked messages by feed on every request.
func (b *Bus) EachParkedError(ctx context.Context, fn func(subject, errText string)) error {
	s, err := b.js.Stream(ctx, StreamParked)
	if err != nil {
		return fmt.Errorf("bus: %s: %w", StreamParked, err)
	}
	if s.CachedInfo().State.Msgs == 0 {
		return nil
	}
	// An ephemeral consumer, gone 10 s after the last read.
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{HeadersOnly: true, InactiveThreshold: 10 * time.Second})
	if err != nil {
		return temporary(fmt.Errorf("bus: read %s: %w", StreamParked, err))
	}
	for {
		batch, err := c.Fetch(256, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return temporary(fmt.Errorf("bus: read %s: %w", StreamParked, err))
		}
		n := 0
		for m := range batch.Messages() {
			n++
			h := m.Headers()
			fn(h.Get(HeaderSubject), h.Get(HeaderError))
			if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
				return nil // the last one when it was read
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return temporary(fmt.Errorf("bus: read %s: %w", StreamParked, err))
		}
		if n == 0 {
			return nil // the rest went (retried, or aged out) while we read
		}
	}
}
