package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/newsflow/newsflow/ingest/fault"
)

// BucketReplay keeps the checkpoints of interrupted replays (see
// ReplayOptions.After), so that a replay started again resumes.
const BucketReplay = "NEWSFLOW_REPLAY"

// ReplayOptions say which messages of a stream Replay hands on.
type ReplayOptions struct {
	// Since: the first message stored at or after this time (zero: from
	// the stream's first message).
	Since time.Time
	// After skips every message up to this stream sequence: a checkpoint
	// of an interrupted replay.
	After uint64
	// Begin, if set, is told how many messages the replay will hand on
	// (as counted when it starts) and the stream sequence it ends at.
	Begin func(pending, last uint64)
}

// replayPull bounds what one replay pull brings: the server closes a
// connection whose unsent data passes its max_pending (64 MiB by
// default), and 500 pages of 180 KB (nats.go's default pull) pass it, so
// that the ack of a publish the replay is waiting on is lost with the
// connection. A few MiB keeps the reader ahead of the handler all the same.
const (
	replayPullMsgs  = 64
	replayPullBytes = 4 << 20
)

// replayRetry is the longest wait between two attempts to read on after
// the server or the connection went away.
const replayRetry = 10 * time.Second

// Replay hands fn each message of stream, in order, with its stream
// sequence, from the first one o selects up to the last message stored
// when Replay was called. It reads through an ordered consumer of its own,
// so the stages' durable consumers are not disturbed; when reading fails
// (a server restart, a lost connection) it reads on from the message after
// the last one fn was handed, with a growing pause, until ctx ends. It
// returns how many messages fn was handed, and stops at the first error fn
// returns: retrying a message is fn's business.
func (b *Bus) Replay(ctx context.Context, stream string, o ReplayOptions, fn func(ctx context.Context, seq uint64, m Msg) error) (int, error) {
	log := b.log
	var last uint64
	err := b.retryRead(ctx, log, stream, func() error {
		s, err := b.js.Stream(ctx, stream)
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		last = info.State.LastSeq
		return nil
	})
	if err != nil {
		return 0, err
	}
	done := o.After
	if done >= last {
		if o.Begin != nil {
			o.Begin(0, last)
		}
		return 0, nil
	}
	n, first := 0, true
	for pause := 250 * time.Millisecond; ; pause = min(2*pause, replayRetry) {
		more, err := b.replayFrom(ctx, stream, b.replayStart(o.Since, done), last, func(pending uint64) {
			if first && o.Begin != nil {
				o.Begin(pending, last)
			}
			first = false
		}, func(ctx context.Context, seq uint64, m Msg) error {
			if err := fn(ctx, seq, m); err != nil {
				return err
			}
			n++
			done = seq
			pause = 250 * time.Millisecond
			return nil
		})
		if !more || ctx.Err() != nil {
			return n, err
		}
		log.Warn("replay: reading the stream failed; reading on", "stream", stream, "after_seq", done, "retry_in", pause, "err", err)
		select {
		case <-ctx.Done():
			return n, fmt.Errorf("bus: replay %s: %w", stream, ctx.Err())
		case <-time.After(pause):
		}
	}
}

// replayStart is the consumer that starts after stream sequence after, or
// else at since, or else at the stream's first message.
func (b *Bus) replayStart(since time.Time, after uint64) jetstream.OrderedConsumerConfig {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	switch {
	case after > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	case !since.IsZero():
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	return cfg
}

// retryRead calls f until it succeeds, for a stream lookup that a server
// restarting or a cluster electing a leader fails for a while.
func (b *Bus) retryRead(ctx context.Context, log *slog.Logger, stream string, f func() error) error {
	for pause := 250 * time.Millisecond; ; pause = min(2*pause, replayRetry) {
		err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("bus: replay %s: %w", stream, err)
		}
		log.Warn("replay: stream not reachable; trying again", "stream", stream, "retry_in", pause, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("bus: replay %s: %w", stream, ctx.Err())
		case <-time.After(pause):
		}
	}
}

// replayFrom reads stream from cfg's start up to last. more reports that
// reading failed (not fn) and can go on from where it stopped.
func (b *Bus) replayFrom(ctx context.Context, stream string, cfg jetstream.OrderedConsumerConfig, last uint64,
	begin func(pending uint64), fn func(context.Context, uint64, Msg) error) (more bool, _ error) {
	wrap := func(err error) error { return fmt.Errorf("bus: replay %s: %w", stream, err) }
	c, err := b.js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return true, wrap(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return true, wrap(err)
	}
	if begin(info.NumPending); info.NumPending == 0 {
		return false, nil
	}
	// A pull's byte limit must let the largest message through.
	maxBytes := max(replayPullBytes, 2*int(b.nc.MaxPayload()))
	it, err := c.Messages(jetstream.PullMaxMessagesWithBytesLimit(replayPullMsgs, maxBytes))
	if err != nil {
		return !errors.Is(err, jetstream.ErrInvalidOption), wrap(err)
	}
	defer it.Stop()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return true, wrap(err)
		}
		md, err := m.Metadata()
		if err != nil {
			return true, wrap(err)
		}
		seq := md.Sequence.Stream
		if seq > last {
			return false, nil
		}
		mm, err := b.msg(ctx, m)
		if err != nil {
			if fault.IsTemporary(err) {
				return true, err
			}
			// A payload object that is gone for good: fn gets the
			// message without it, and its error names the message.
			b.log.Warn("replay: payload missing", "stream", stream, "seq", seq, "err", err)
			mm = Msg{Subject: m.Subject(), Header: m.Headers()}
		}
		if err := fn(ctx, seq, mm); err != nil {
			return false, err
		}
		if seq >= last {
			return false, nil
		}
	}
}

// Checkpoints keep, in BucketReplay, the stream sequence up to which an
// interrupted replay had handled every message.
type Checkpoints struct{ kv jetstream.KeyValue }

// ReplayCheckpoints opens (creating it if needed) the checkpoint bucket.
func (b *Bus) ReplayCheckpoints(ctx context.Context) (*Checkpoints, error) {
	kv, err := b.KeyValue(ctx, jetstream.KeyValueConfig{Bucket: BucketReplay,
		Description: "newsflow: where interrupted replays stopped (stream sequence per replay)", Storage: jetstream.FileStorage})
	if err != nil {
		return nil, err
	}
	return &Checkpoints{kv: kv}, nil
}

// ReplayKey names the checkpoint of a replay of stream from since into
// target (a database, or "" for a stream): replays of other ranges or
// into other targets keep checkpoints of their own.
func ReplayKey(stream string, since time.Time, target string) string {
	sum := sha256.Sum256([]byte(since.UTC().Format(time.RFC3339Nano) + "\n" + target))
	return stream + "." + hex.EncodeToString(sum[:8])
}

// Get returns the checkpoint under key, 0 when there is none.
func (c *Checkpoints) Get(ctx context.Context, key string) (uint64, error) {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	e, err := c.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, temporary(fmt.Errorf("bus: replay checkpoint %s: %w", key, err))
	}
	seq, err := strconv.ParseUint(string(e.Value()), 10, 64)
	if err != nil {
		return 0, permanent(fmt.Errorf("bus: replay checkpoint %s: %q is not a stream sequence", key, e.Value()))
	}
	return seq, nil
}

// Put sets the checkpoint under key to seq.
func (c *Checkpoints) Put(ctx context.Context, key string, seq uint64) error {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	if _, err := c.kv.Put(ctx, key, []byte(strconv.FormatUint(seq, 10))); err != nil {
		return temporary(fmt.Errorf("bus: replay checkpoint %s: %w", key, err))
	}
	return nil
}

// Delete removes the checkpoint under key: the replay finished.
func (c *Checkpoints) Delete(ctx context.Context, key string) error {
	if err := c.kv.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return temporary(fmt.Errorf("bus: replay checkpoint %s: %w", key, err))
	}
	return nil
}
