package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	// BatchBytes bounds the payload bytes of one batch (default 8 MiB); a
	// message larger than it goes alone.
	BatchBytes int
	// MaxDeliver is how many deliveries a failing message gets before it is
	// parked (default 5).
	MaxDeliver int
	// Backoff is the nak delay after the 1st, 2nd, ... failed delivery; the
	// last one repeats (default 2s, 10s, 1m, 5m).
	Backoff []time.Duration
	// DeferDelay is how long a message its handler deferred waits before it
	// is delivered again (default 30s).
	DeferDelay time.Duration
	// MaxPause caps the wait between two tries while a dependency is down
	// (default 5s): the stage holds its messages and tries again after
	// 250ms, 500ms, ... up to MaxPause.
	MaxPause time.Duration
	// AckWait is how long a delivered message may stay unacknowledged before
	// the server delivers it again (default 15s): how long the messages of a
	// crashed worker wait. Handlers that take longer are kept alive by
	// in-progress acknowledgements every third of it.
	AckWait time.Duration
	// Heartbeat is the idle heartbeat of a pull (default 2s, at least
	// 500ms): a pull that hears nothing for twice as long, as when the
	// consumer's leader died, is sent again.
	Heartbeat time.Duration
	// FetchWait is how long one pull waits when no message is ready
	// (default 10s, at least twice Heartbeat and 2s).
	FetchWait time.Duration
	// Linger is how long a batch that starts with one message waits for
	// more (default 0: it takes what is ready). Larger batches cost less
	// per message, each message waits up to Linger longer.
	Linger time.Duration
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
	if o.BatchBytes <= 0 {
		o.BatchBytes = 8 << 20
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 5
	}
	if len(o.Backoff) == 0 {
		o.Backoff = []time.Duration{2 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute}
	}
	if o.DeferDelay <= 0 {
		o.DeferDelay = 30 * time.Second
	}
	if o.MaxPause <= 0 {
		o.MaxPause = 5 * time.Second
	}
	if o.AckWait <= 0 {
		o.AckWait = 15 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 2 * time.Second
	}
	o.Heartbeat = min(max(o.Heartbeat, 500*time.Millisecond), 30*time.Second)
	if o.FetchWait <= 0 {
		o.FetchWait = 10 * time.Second
	}
	// A pull's expiry is a little shorter than its context's deadline, and
	// must still be twice the heartbeat.
	o.FetchWait = max(o.FetchWait, 2*o.Heartbeat+2*time.Second)
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

// goneRecheck is how long gone waits before it asks a second time.
const goneRecheck = 2 * time.Second

// gone reports whether the consumer c no longer exists. A pull sent after
// the consumer was deleted gets no answer at all (no responders, or
// silence until the heartbeat is missed), so every failed pull asks, even
// one that says the consumer was deleted or not found. A JetStream that
// restarts (see embedded) answers "not found" for the
// streams and consumers it has not reloaded yet, so a "not found" counts
// only when it is still the answer goneRecheck later.
func gone(ctx context.Context, c jetstream.Consumer) bool {
	notFound := func() bool {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, ierr := c.Info(ctx)
		return errors.Is(ierr, jetstream.ErrConsumerNotFound) || errors.Is(ierr, jetstream.ErrStreamNotFound)
	}
	if !notFound() {
		return false
	}
	sleep(ctx, goneRecheck)
	return ctx.Err() == nil && notFound()
}

// stopped is the error Consume and ConsumeBatch return when the consumer
// goes away under them.
func stopped(o ConsumerOptions, err error) error {
	return fmt.Errorf("bus: consumer %s on %s stopped: %w", o.Consumer, o.Stream, err)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
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
	it, err := c.Messages(jetstream.PullMaxMessages(o.Workers*2),
		jetstream.PullExpiry(o.FetchWait), jetstream.PullHeartbeat(o.Heartbeat))
	if err != nil {
		return fmt.Errorf("bus: consume %s: %w", o.Consumer, err)
	}
	stop := context.AfterFunc(ctx, it.Drain)
	defer stop()
	work, cancel := workContext(ctx, o.Drain)
	defer cancel()
	down := &outage{log: b.log.With("consumer", o.Consumer)}
	one := func(ctx context.Context, ms []Msg) error { return h(ctx, ms[0]) }

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
				if err != nil {
					if gone(ctx, c) {
						once.Do(func() { failed = err })
						it.Stop()
						return
					}
					// A missed heartbeat (NATS away, or a new consumer
					// leader): the iterator has already pulled again.
					b.log.Warn("consume: next message", "consumer", o.Consumer, "err", err)
					if !errors.Is(err, jetstream.ErrNoHeartbeat) {
						sleep(ctx, time.Second)
					}
					continue
				}
				stop := inProgress(o.AckWait, m)
				err = b.attempt(ctx, o, down, func() error {
					mm, err := b.msg(work, m)
					if err != nil {
						return err
					}
					return safeBatch(work, one, []Msg{mm})
				})
				stop()
				b.settle(work, o, m, err)
			}
		})
	}
	wg.Wait()
	if ctx.Err() == nil {
		if failed == nil {
			failed = errors.New("message iterator closed")
		}
		return stopped(o, failed)
	}
	return nil
}

// ConsumeBatch runs h on batches of up to o.BatchSize messages and
// o.BatchBytes bytes until ctx ends; then it finishes the batch in hand and
// returns nil. A batch is what is ready when the loop asks: it waits only
// when nothing is, and then for one message.
func (b *Bus) ConsumeBatch(ctx context.Context, o ConsumerOptions, h BatchHandler) error {
	o.defaults()
	c, err := b.consumer(ctx, o, o.BatchSize*2)
	if err != nil {
		return err
	}
	work, cancel := workContext(ctx, o.Drain)
	defer cancel()
	down := &outage{log: b.log.With("consumer", o.Consumer)}
	f := &batcher{b: b, c: c, o: o}
	defer f.release(work)
	for ctx.Err() == nil {
		batch, err := f.next(ctx, work)
		if err != nil && ctx.Err() == nil {
			if gone(ctx, c) {
				return stopped(o, err)
			}
			b.log.Warn("consume: fetch", "consumer", o.Consumer, "err", err)
			sleep(ctx, 500*time.Millisecond)
		}
		if len(batch) > 0 {
			b.runBatch(ctx, work, o, down, h, batch, f.held())
		}
	}
	return nil
}

// runBatch hands batch to h and settles each message by the outcome. A
// batch that fails for a reason other than a dependency's outage is handed
// over again one message at a time, so that only the failing ones are
// retried or parked.
func (b *Bus) runBatch(ctx, work context.Context, o ConsumerOptions, down *outage, h BatchHandler, batch []item, queued []jetstream.Msg) {
	raw := make([]jetstream.Msg, len(batch), len(batch)+len(queued))
	msgs := make([]Msg, len(batch))
	for i, it := range batch {
		raw[i], msgs[i] = it.raw, it.msg
	}
	stop := inProgress(o.AckWait, append(raw, queued...)...)
	defer stop()
	err := b.attempt(ctx, o, down, func() error { return safeBatch(work, h, msgs) })
	if err != nil && len(msgs) > 1 && decide(err, 1, &o).fate != hold {
		for i := range msgs {
			err := b.attempt(ctx, o, down, func() error { return safeBatch(work, h, msgs[i:i+1]) })
			b.settle(work, o, raw[i], err)
		}
		return
	}
	for _, m := range raw {
		b.settle(work, o, m, err)
	}
}

// item is a delivered message with its payload.
type item struct {
	raw jetstream.Msg
	msg Msg
}

// batcher forms batches from what the consumer has ready.
type batcher struct {
	b *Bus
	c jetstream.Consumer
	o ConsumerOptions
	// queue holds delivered messages not yet in a batch; carry one whose
	// payload did not fit the last batch.
	queue []jetstream.Msg
	carry *item
}

// next returns the next batch: the messages ready now, up to o.BatchSize
// and o.BatchBytes; if none are, it waits up to o.FetchWait for one and
// adds what else is ready by then.
func (f *batcher) next(ctx, work context.Context) ([]item, error) {
	var err error
	if len(f.queue) == 0 && f.carry == nil {
		f.queue, err = f.fill(ctx)
	}
	var batch []item
	size := 0
	if f.carry != nil {
		batch, size, f.carry = append(batch, *f.carry), len(f.carry.msg.Data), nil
	}
	for len(f.queue) > 0 && len(batch) < f.o.BatchSize {
		m := f.queue[0]
		f.queue = f.queue[1:]
		mm, merr := f.b.msg(work, m)
		if merr != nil {
			f.b.settle(work, f.o, m, merr)
			continue
		}
		if len(batch) > 0 && size+len(mm.Data) > f.o.BatchBytes {
			f.carry = &item{m, mm}
			break
		}
		batch, size = append(batch, item{m, mm}), size+len(mm.Data)
	}
	return batch, err
}

// held is the delivered messages not in the batch in hand: the queue and
// the carry. They are kept in progress while the batch runs, so that the
// server does not deliver them elsewhere meanwhile.
func (f *batcher) held() []jetstream.Msg {
	if f.carry == nil {
		return f.queue
	}
	return append(slices.Clip(f.queue), f.carry.raw)
}

// fill fetches the messages that are ready, or, if none are, waits for one
// and takes it with what else is ready then. With o.Linger, a batch short
// of o.BatchSize waits up to Linger for the rest.
func (f *batcher) fill(ctx context.Context) ([]jetstream.Msg, error) {
	ms, err := collect(f.c.FetchNoWait(f.o.BatchSize))
	if err != nil {
		return ms, err
	}
	waited := false
	if len(ms) == 0 {
		wait, cancel := context.WithTimeout(ctx, f.o.FetchWait)
		defer cancel()
		ms, err = collect(f.c.Fetch(1, jetstream.FetchContext(wait), jetstream.FetchHeartbeat(f.o.Heartbeat)))
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			err = nil
		}
		if err != nil || len(ms) == 0 {
			return ms, err
		}
		waited = true
	}
	var more []jetstream.Msg
	switch rest := f.o.BatchSize - len(ms); {
	case rest <= 0:
		return ms, nil
	case f.o.Linger > 0:
		more, err = collect(f.c.Fetch(rest, jetstream.FetchMaxWait(f.o.Linger)))
	case waited:
		more, err = collect(f.c.FetchNoWait(rest))
	}
	return append(ms, more...), err
}

// collect reads a fetch to its end.
func collect(mb jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
	if err != nil {
		return nil, err
	}
	var ms []jetstream.Msg
	for m := range mb.Messages() {
		ms = append(ms, m)
	}
	return ms, mb.Error()
}

// release gives back the messages fetched but not handled, so that they
// are delivered again at once rather than after AckWait.
func (f *batcher) release(ctx context.Context) {
	if f.carry != nil {
		f.queue = append(f.queue, f.carry.raw)
	}
	for _, m := range f.queue {
		_ = m.Nak()
	}
	f.queue, f.carry = nil, nil
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

// outage tracks a stage's dependency being down, so that the stage logs
// the outage once when it begins and once when it ends, however many
// workers wait it out.
type outage struct {
	log     *slog.Logger
	mu      sync.Mutex
	waiting int
	since   time.Time
}

func (d *outage) enter(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.waiting++; d.waiting == 1 && d.since.IsZero() {
		d.since = time.Now()
		d.log.Warn("a dependency is down; holding messages and trying again until it is back", "err", err)
	}
}

// leave ends one worker's wait; back says whether the dependency answered.
func (d *outage) leave(back bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.waiting--; d.waiting > 0 || d.since.IsZero() {
		return
	}
	down := time.Since(d.since).Round(time.Millisecond)
	if back {
		d.log.Info("the dependency is back; resuming", "down_for", down, "err", err)
	} else {
		d.log.Warn("stopping while the dependency is down", "down_for", down, "err", err)
	}
	d.since = time.Time{}
}

// attempt runs try and, while it fails temporarily (a dependency is down),
// runs it again after a pause that doubles from 250ms up to o.MaxPause,
// until it gives another result or ctx ends. The messages wait in hand,
// neither naked nor redelivered, so that none of them is delayed past the
// outage's end.
func (b *Bus) attempt(ctx context.Context, o ConsumerOptions, down *outage, try func() error) error {
	err := try()
	if decide(err, 1, &o).fate != hold {
		return err
	}
	down.enter(err)
	for pause := 250 * time.Millisecond; ctx.Err() == nil; pause = min(2*pause, o.MaxPause) {
		if sleep(ctx, pause); ctx.Err() != nil {
			break
		}
		if err = try(); decide(err, 1, &o).fate != hold {
			down.leave(true, err)
			return err
		}
	}
	down.leave(false, err)
	return err
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

// settle acknowledges, naks or parks m as decide says for err.
func (b *Bus) settle(ctx context.Context, o ConsumerOptions, m jetstream.Msg, err error) {
	var delivered uint64 = 1
	md, mdErr := m.Metadata()
	if mdErr == nil {
		delivered = md.NumDelivered
	}
	log := b.log.With("consumer", o.Consumer, "subject", m.Subject(), "delivery", delivered)
	d := decide(err, delivered, &o)
	switch d.fate {
	case ack:
		if aerr := m.DoubleAck(ctx); aerr != nil {
			log.Warn("ack failed; the message will be redelivered", "err", aerr)
		}
		return
	case retry, deferred, hold:
		switch d.fate {
		case deferred:
			log.Info("deferred; will try again", "err", err, "retry_in", d.delay)
		case hold:
			log.Warn("dependency still down at shutdown; will retry", "err", err, "retry_in", d.delay)
		default:
			log.Warn("failed; will retry", "err", err, "retry_in", d.delay)
		}
		if nerr := m.NakWithDelay(d.delay); nerr != nil {
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
