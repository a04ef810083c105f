package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// articleStore is what the store role needs of a database.
type articleStore interface {
	Upsert(ctx context.Context, batch []process.Article) (store.UpsertStats, error)
	Ping(ctx context.Context) error
	Close() error
}

// pipeline is the stages of one process, wired to one bus.
type pipeline struct {
	cfg     config
	log     *slog.Logger
	bus     *bus.Bus
	db      articleStore
	poller  *ingest.Poller
	worker  *process.Worker
	metrics *metrics
	// started is when the pipeline was made, for rates since start.
	started time.Time

	processed, processErrors atomic.Int64

	mu     sync.Mutex
	stored store.UpsertStats
}

// newPipeline connects to NATS and opens what cfg's roles need.
func newPipeline(ctx context.Context, cfg config, log *slog.Logger) (_ *pipeline, err error) {
	p := &pipeline{cfg: cfg, log: log, started: time.Now()}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	p.bus, err = bus.Connect(ctx, bus.Options{URL: cfg.natsURL, Creds: cfg.natsCreds, DataDir: cfg.dataDir,
		Name: "newsflow " + strings.Join(cfg.roles, "+"), Replicas: cfg.replicas, Retention: &cfg.retention, Logger: log})
	if err != nil {
		return nil, err
	}
	if slices.Contains(cfg.roles, "store") {
		if p.db, err = store.Open(ctx, cfg.store); err != nil {
			return nil, fmt.Errorf("--store: %w", err)
		}
	}
	p.metrics = newMetrics(p)
	if slices.Contains(cfg.roles, "process") {
		p.worker = process.NewWorker(articlePublisher{p.bus})
		p.worker.OnExtract = func(d time.Duration) { p.metrics.extract.Observe(d.Seconds()) }
	}
	if slices.Contains(cfg.roles, "ingest") {
		if p.poller, err = newPoller(ctx, cfg, p.bus, log, p.metrics.observeFetch); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// run runs the roles until ctx ends, then lets each drain and returns. A
// stage that fails stops them all: the process exits with its error rather
// than run on without it.
func (p *pipeline) run(parent context.Context) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var wg sync.WaitGroup
	var failed error
	var once sync.Once
	start := func(role string, f func(context.Context) error) {
		wg.Go(func() {
			if err := f(ctx); err != nil && !(parent.Err() != nil && errors.Is(err, context.Canceled)) {
				once.Do(func() { failed = fmt.Errorf("%s: %w", role, err) })
				p.log.Error("stage failed; stopping", "stage", role, "err", err)
				cancel()
			}
		})
	}
	if p.poller != nil {
		start("ingest", p.poller.Run)
	}
	if p.worker != nil {
		start("process", func(ctx context.Context) error {
			return p.bus.Consume(ctx, bus.ConsumerOptions{Stream: bus.StreamRaw, Consumer: bus.ConsumerProcess,
				Workers: p.cfg.workers, MaxDeliver: p.cfg.maxDeliver, AckWait: p.cfg.ackWait}, p.handleRaw)
		})
	}
	if p.db != nil {
		start("store", func(ctx context.Context) error {
			return p.bus.ConsumeBatch(ctx, bus.ConsumerOptions{Stream: bus.StreamArticles, Consumer: bus.ConsumerStore,
				MaxDeliver: p.cfg.maxDeliver, AckWait: p.cfg.ackWait, Linger: storeLinger}, p.storeBatch)
		})
	}
	// The status server outlives the stages' context, so that /readyz
	// answers "draining" while they finish.
	sctx, stopStatus := context.WithCancel(context.WithoutCancel(ctx))
	var status sync.WaitGroup
	if p.cfg.httpAddr != "" {
		status.Go(func() {
			if err := p.serveStatus(sctx, ctx, p.cfg.httpAddr); err != nil {
				once.Do(func() { failed = fmt.Errorf("status: %w", err) })
				p.log.Error("stage failed; stopping", "stage", "status", "err", err)
				cancel()
			}
		})
	}
	attrs := []any{"roles", p.cfg.roles, "nats", natsName(p.cfg)}
	if p.db != nil {
		attrs = append(attrs, "store", store.RedactDSN(p.cfg.store))
	}
	p.log.Info("newsflow running", attrs...)
	wg.Go(func() { p.report(ctx, time.Minute) })
	wg.Wait()
	stopStatus()
	status.Wait()
	return failed
}

// report logs the stages' counters every period, so that an operator sees
// progress and failures without a metrics system.
func (p *pipeline) report(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.log.Info("progress", p.counters()...)
	}
}

// counters are the log attributes of what this process's roles have done
// since start: each role adds its own, so that a process without a store
// does not report storing nothing.
func (p *pipeline) counters() []any {
	var attrs []any
	if p.poller != nil {
		s := p.poller.Stats()
		attrs = append(attrs, "feeds_polled", s.FeedsPolled, "feeds_not_modified", s.FeedsNotModified,
			"feed_errors", s.FeedErrors, "items_published", s.ItemsPublished, "page_errors", s.PageErrors)
	}
	if p.worker != nil {
		attrs = append(attrs, "processed", p.processed.Load(), "process_errors", p.processErrors.Load())
	}
	if p.db != nil {
		s := p.storedStats()
		attrs = append(attrs, "inserted", s.Inserted, "updated", s.Updated, "unchanged", s.Unchanged)
	}
	return attrs
}

func (p *pipeline) handleRaw(ctx context.Context, m bus.Msg) error {
	feed := p.metrics.feed(bus.FeedOfSubject(m.Subject))
	if err := p.worker.Handle(ctx, m.Data); err != nil {
		p.processErrors.Add(1)
		p.metrics.processed.WithLabelValues(feed, "error").Inc()
		return err
	}
	p.processed.Add(1)
	p.metrics.processed.WithLabelValues(feed, "ok").Inc()
	return nil
}

// storeLinger is how long the store waits for more records to write with
// the first one of a batch: a transaction's cost (its commit, the segment
// of the search index it writes) is shared by more records.
const storeLinger = 50 * time.Millisecond

// storeBatch upserts a batch of records in one transaction.
func (p *pipeline) storeBatch(ctx context.Context, ms []bus.Msg) error {
	batch := make([]process.Article, 0, len(ms))
	for _, m := range ms {
		a, err := store.Decode(m.Data)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Subject, err)
		}
		batch = append(batch, a)
	}
	start := time.Now()
	st, err := p.db.Upsert(ctx, batch)
	if err != nil {
		return err
	}
	now := time.Now()
	p.metrics.store.Observe(now.Sub(start).Seconds())
	for _, a := range batch {
		p.metrics.stored.WithLabelValues(p.metrics.feed(a.Feed)).Inc()
		if !a.FetchedAt.IsZero() {
			p.metrics.feedToStore.Observe(now.Sub(a.FetchedAt).Seconds())
		}
	}
	p.mu.Lock()
	p.stored.Add(st)
	p.mu.Unlock()
	p.log.Debug("stored batch", "inserted", st.Inserted, "updated", st.Updated, "unchanged", st.Unchanged)
	return nil
}

// storedStats is what the store role has done since start.
func (p *pipeline) storedStats() store.UpsertStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stored
}

func (p *pipeline) close() {
	if p.db != nil {
		if err := p.db.Close(); err != nil {
			p.log.Warn("closing the store", "err", err)
		}
	}
	if p.bus != nil {
		p.bus.Close()
	}
}

// articlePublisher publishes records on news.article.<feed>. The message id
// names the record's content, so a record made again from the same page is
// dropped as a duplicate.
type articlePublisher struct{ b *bus.Bus }

func (p articlePublisher) PublishArticle(ctx context.Context, a process.Article) error {
	data, err := process.EncodeArticle(a)
	if err != nil {
		return err
	}
	feed := a.Feed
	if feed == "" {
		feed = "none"
	}
	return p.b.Publish(ctx, bus.ArticleSubject(feed), a.ID+"-"+a.ContentHash+"-"+a.ExtractorVersion, data)
}

// rawPublisher publishes raw articles on news.raw.<feed>, with the item's
// id as the message id.
type rawPublisher struct{ b *bus.Bus }

func (p rawPublisher) PublishRaw(ctx context.Context, a ingest.RawArticle) error {
	data, err := ingest.EncodeRaw(a)
	if err != nil {
		return err
	}
	return p.b.Publish(ctx, bus.RawSubject(a.Feed), a.ID, data)
}

func natsName(c config) string {
	if c.natsURL == "" {
		return "embedded"
	}
	return c.natsURL
}
