package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Msg is one message handed to a handler, its payload already fetched.
type Msg struct {
	Subject string
	Data    []byte
	Header  nats.Header
	// Deliveries counts this delivery: 1 the first time.
	Deliveries uint64
}

// Handler handles one message. Its error decides the message's fate; see
// the package's error rules.
type Handler func(ctx context.Context, m Msg) error

// BatchHandler handles several messages at once, all or nothing: on an
// error that is not temporary the loop hands it the messages one at a time,
// so that only the poison one is parked.
type BatchHandler func(ctx context.Context, ms []Msg) error

// ConsumerOptions configure a stage's durable pull consumer.
type ConsumerOptions struct {
	Stream   string
	Consumer string
	// Workers is how many handlers run at once (default 1).
	Workers int
	// BatchSize is how many messages a BatchHandler gets at most (default 100).
	BatchSize int
	// MaxDeliver is how many deliveries a failing message gets before it is
	// parked (default 5).
	MaxDeliver int
	// Backoff is the nak delay after the 1st, 2nd, ... failed delivery; the
	// last one repeats (default 2s, 10s, 1m, 5m).
	Backoff []time.Duration
	// AckWait is how long a delivered message may stay unacknowledged before
	// the server delivers it again (default 1m).
	AckWait time.Duration
	// Drain is how long, after ctx ends, in-flight messages may still take
	// to finish (default 15s).
	Drain time.Duration
}

func (o *ConsumerOptions) defaults() {
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 5
	}
	if len(o.Backoff) == 0 {
		o.Backoff = []time.Duration{2 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute}
	}
	if o.AckWait <= 0 {
		o.AckWait = time.Minute
	}
	if o.Drain <= 0 {
		o.Drain = 15 * time.Second
	}
}

// backoff is the nak delay after the given delivery failed.
func (o *ConsumerOptions) backoff(delivered uint64) time.Duration {
	return o.Backoff[min(max(int(delivered), 1), len(o.Backoff))-1]
}

func (b *Bus) consumer(ctx context.Context, o ConsumerOptions, pending int) (jetstream.Consumer, error) {
	c, err := b.js.CreateOrUpdateConsumer(ctx, o.Stream, jetstream.ConsumerConfig{
		Durable:       o.Consumer,
		Description:   "newsflow " + o.Consumer + " stage",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       o.AckWait,
		MaxDeliver:    -1, // the loop parks after o.MaxDeliver; the server never drops silently
		MaxAckPending: pending,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consumer %s on %s: %w", o.Consumer, o.Stream, err)
	}
	return c, nil
}

// workContext outlives ctx by o.Drain, so that in-flight messages can
// finish their effects and be acknowledged after shutdown begins.
func workContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d, cancel)
		context.AfterFunc(work, func() { t.Stop() })
	})
	return work, func() { stop(); cancel() }
}

// Consume runs h on the messages of o.Consumer, o.Workers at a time, until
// ctx ends; then it lets in-flight messages finish and returns nil. It
// returns an error if the consumer goes away before that.
func (b *Bus) Consume(ctx context.Context, o ConsumerOptions, h Handler) error {
	o.defaults()
	c, err := b.consumer(ctx, o, o.Workers*4)
	if err != nil {
		return err
	}
	it, err := c.Messages(jetstream.PullMaxMessages(o.Workers * 2))
	if err != nil {
		return fmt.Errorf("bus: consume %s: %w", o.Consumer, err)
	}
	stop := context.AfterFunc(ctx, it.Drain)
	defer stop()
	work, cancel := workContext(ctx, o.Drain)
	defer cancel()

	var wg sync.WaitGroup
	var failed error
	var once sync.Once
	for range o.Workers {
		wg.Go(func() {
			for {
				m, err := it.Next()
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
					once.Do(func() { failed = err })
					it.Stop()
					return
				}
				if err != nil {
					// Heartbeats missed while NATS is away: the iterator
					// pulls again by itself once it is back.
					b.log.Warn("consume: next message", "consumer", o.Consumer, "err", err)
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
					continue
				}
				b.handle(work, o, m, h)
			}
		})
	}
	wg.Wait()
	if ctx.Err() == nil {
		if failed == nil {
			failed = errors.New("message iterator closed")
		}
		return fmt.Errorf("bus: consumer %s on %s stopped: %w", o.Consumer, o.Stream, failed)
	}
	return nil
}

// ConsumeBatch runs h on batches of up to o.BatchSize messages until ctx
// ends; then it finishes the batch in hand and returns nil.
func (b *Bus) ConsumeBatch(ctx context.Context, o ConsumerOptions, h BatchHandler) error {
	o.defaults()
	c, err := b.consumer(ctx, o, o.BatchSize*2)
	if err != nil {
		return err
	}
	work, cancel := workContext(ctx, o.Drain)
	defer cancel()
	for ctx.Err() == nil {
		batch, err := c.Fetch(o.BatchSize, jetstream.FetchMaxWait(time.Second))
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("bus: consumer %s on %s stopped: %w", o.Consumer, o.Stream, err)
		}
		if err != nil {
			b.log.Warn("consume: fetch", "consumer", o.Consumer, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		var raw []jetstream.Msg
		var msgs []Msg
		for m := range batch.Messages() {
			mm, err := b.msg(work, m)
			if err != nil {
				b.settle(work, o, m, err)
				continue
			}
			raw, msgs = append(raw, m), append(msgs, mm)
		}
		if err := batch.Error(); errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("bus: consumer %s on %s stopped: %w", o.Consumer, o.Stream, err)
		}
		if len(msgs) == 0 {
			continue
		}
		stop := inProgress(o.AckWait, raw...)
		err = safeBatch(work, h, msgs)
		stop()
		if err != nil && len(msgs) > 1 && !IsTemporary(err) {
			for i := range msgs {
				b.settle(work, o, raw[i], safeBatch(work, h, msgs[i:i+1]))
			}
			continue
		}
		for _, m := range raw {
			b.settle(work, o, m, err)
		}
		if IsTemporary(err) {
			// A dependency is down: stop pulling for a while rather than
			// cycle the backlog through naks.
			pause := o.backoff(msgs[0].Deliveries)
			b.log.Warn("consume: pausing after a temporary failure", "consumer", o.Consumer, "pause", pause)
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
	return nil
}

func (b *Bus) msg(ctx context.Context, m jetstream.Msg) (Msg, error) {
	data, err := b.payload(ctx, m)
	if err != nil {
		return Msg{}, err
	}
	mm := Msg{Subject: m.Subject(), Data: data, Header: m.Headers()}
	if md, err := m.Metadata(); err == nil {
		mm.Deliveries = md.NumDelivered
	}
	return mm, nil
}

func (b *Bus) handle(ctx context.Context, o ConsumerOptions, m jetstream.Msg, h Handler) {
	stop := inProgress(o.AckWait, m)
	mm, err := b.msg(ctx, m)
	if err == nil {
		err = safeBatch(ctx, func(ctx context.Context, ms []Msg) error { return h(ctx, ms[0]) }, []Msg{mm})
	}
	stop()
	b.settle(ctx, o, m, err)
}

// inProgress tells the server, every third of ackWait, that ms are still
// being worked on, so that a slow handler's messages are not delivered to
// another worker meanwhile. The returned func stops it.
func inProgress(ackWait time.Duration, ms ...jetstream.Msg) func() {
	t := time.NewTicker(ackWait / 3)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, m := range ms {
					_ = m.InProgress()
				}
			}
		}
	}()
	return func() { t.Stop(); close(done) }
}

// safeBatch runs h, turning a panic into a permanent error.
func safeBatch(ctx context.Context, h BatchHandler, ms []Msg) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = permanent(fmt.Errorf("handler panicked: %v", r))
		}
	}()
	return h(ctx, ms)
}

// settle acknowledges, naks or parks m according to err.
func (b *Bus) settle(ctx context.Context, o ConsumerOptions, m jetstream.Msg, err error) {
	var delivered uint64 = 1
	md, mdErr := m.Metadata()
	if mdErr == nil {
		delivered = md.NumDelivered
	}
	log := b.log.With("consumer", o.Consumer, "subject", m.Subject(), "delivery", delivered)
	if err == nil {
		if aerr := m.DoubleAck(ctx); aerr != nil {
			log.Warn("ack failed; the message will be redelivered", "err", aerr)
		}
		return
	}
	if !IsPermanent(err) && (IsTemporary(err) || delivered < uint64(o.MaxDeliver)) {
		delay := o.backoff(delivered)
		log.Warn("failed; will retry", "err", err, "retry_in", delay)
		if nerr := m.NakWithDelay(delay); nerr != nil {
			log.Warn("nak failed; the message will be redelivered after the ack wait", "err", nerr)
		}
		return
	}
	if perr := b.park(ctx, o, m, md, err); perr != nil {
		log.Error("cannot park failed message; will retry", "err", err, "park_err", perr)
		_ = m.NakWithDelay(o.backoff(uint64(len(o.Backoff))))
		return
	}
	log.Error("message parked", "err", err)
	if terr := m.Term(); terr != nil {
		log.Warn("term failed; the message may be redelivered and parked again", "err", terr)
	}
}

// park copies m, with its error, to StreamParked.
func (b *Bus) park(ctx context.Context, o ConsumerOptions, m jetstream.Msg, md *jetstream.MsgMetadata, cause error) error {
	pm := &nats.Msg{Subject: parkedSubject(o.Consumer), Data: m.Data(), Header: nats.Header{}}
	for k, v := range m.Headers() {
		if k != jetstream.MsgIDHeader {
			pm.Header[k] = v
		}
	}
	pm.Header.Set(HeaderError, cause.Error())
	pm.Header.Set(HeaderStage, o.Consumer)
	pm.Header.Set(HeaderSubject, m.Subject())
	id := ""
	if md != nil {
		pm.Header.Set(HeaderDeliveries, strconv.FormatUint(md.NumDelivered, 10))
		pm.Header.Set(HeaderStreamSeq, strconv.FormatUint(md.Sequence.Stream, 10))
		id = fmt.Sprintf("%s-%s-%d", o.Stream, o.Consumer, md.Sequence.Stream)
	}
	return b.publish(ctx, pm, id)
}
