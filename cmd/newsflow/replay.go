package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// cmdReplay replays a stream: `raw` extracts every stored page again and
// publishes the records (after an extractor upgrade, say); `articles`
// upserts every stored record into a database (to rebuild one, or fill a
// new PostgreSQL). Both leave the stages' own consumers alone, and both are
// idempotent: replaying twice changes nothing more. A replay waits out
// temporary errors, reports and counts the messages that fail for good,
// and, interrupted, resumes where it stopped when started again.
func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: newsflow replay raw|articles [--since TIME] [--restart] [--data DIR | --nats URL] [--store DSN]"
	if len(args) == 0 || (args[0] != "raw" && args[0] != "articles") {
		return fmt.Errorf("replay: %s", use)
	}
	what := args[0]
	fs := flag.NewFlagSet("replay "+what, flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var dataDir, natsURL, creds, dsn, since string
	var restart bool
	e.str(&dataDir, "data", "NEWSFLOW_DATA", "newsflow-data", "data folder of the embedded NATS server and the SQLite database")
	e.secret(&natsURL, "nats", "NATS_URL", "external NATS server URL(s)")
	e.str(&creds, "nats-creds", "NATS_CREDS", "", "NATS credentials file for --nats")
	var replicas int
	e.replicas(&replicas)
	if what == "articles" {
		e.secret(&dsn, "store", "NEWSFLOW_STORE", "database to fill: a postgres:// URL or libpq key=value string, or a SQLite file (default DATA/newsflow.db)")
	}
	fs.StringVar(&since, "since", "", "replay what was stored from this time on (RFC 3339 or YYYY-MM-DD; default: everything)")
	fs.BoolVar(&restart, "restart", false, "start from the beginning even if an interrupted replay of the same range (and database) left a checkpoint")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	errs := append(e.errs, checkReplicas(replicas)...)
	var from time.Time
	if since != "" {
		var err error
		if from, err = time.Parse(time.RFC3339, since); err != nil {
			if from, err = time.Parse(time.DateOnly, since); err != nil {
				errs = append(errs, fmt.Errorf("--since: %q is not an RFC 3339 time or a YYYY-MM-DD date", since))
			}
		}
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("replay %s: unexpected argument %q", what, fs.Arg(0)))
	}
	if len(errs) > 0 {
		return joinLines(errs)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b, err := bus.Connect(ctx, bus.Options{URL: natsURL, Creds: creds, DataDir: dataDir, Join: true, Replicas: replicas, Name: "newsflow replay", Logger: log})
	if err != nil {
		return err
	}
	defer b.Close()

	r := &replay{log: log, bus: b, from: from, restart: restart, prog: newProgress(stderr, what)}
	if what == "raw" {
		r.stream = bus.StreamRaw
		return r.raw(ctx, stdout)
	}
	if dsn == "" {
		dsn = filepath.Join(dataDir, "newsflow.db")
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("replay: --store: %w", err)
	}
	defer db.Close()
	r.stream, r.target = bus.StreamArticles, store.RedactDSN(dsn)
	return r.articles(ctx, db, stdout)
}

// replay is one run of `newsflow replay`.
type replay struct {
	log     *slog.Logger
	bus     *bus.Bus
	stream  string
	target  string // the database filled, for the checkpoint's key
	from    time.Time
	restart bool
	prog    *progress

	cps     *bus.Checkpoints
	key     string
	done    uint64 // every message up to this stream sequence is handled
	saved   uint64
	savedAt time.Time
}

// checkpointEvery is how often a replay records how far it got.
const checkpointEvery = time.Second

// run hands fn each message to replay, from the checkpoint of an earlier
// interrupted run unless --restart, keeps the checkpoint up to date, calls
// finish (if set) at the end, and then removes the checkpoint. fn reports
// the message's outcome; it returns an error only when the replay cannot
// go on.
func (r *replay) run(ctx context.Context, fn func(ctx context.Context, seq uint64, m bus.Msg) error, finish func(context.Context) error) error {
	var err error
	if r.cps, err = r.bus.ReplayCheckpoints(ctx); err != nil {
		return err
	}
	r.key = bus.ReplayKey(r.stream, r.from, r.target)
	if r.restart {
		err = r.cps.Delete(ctx, r.key)
	} else if r.done, err = r.cps.Get(ctx, r.key); err == nil && r.done > 0 {
		r.log.Info("replay: resuming where an interrupted replay stopped (--restart starts over)", "stream", r.stream, "after_seq", r.done)
	}
	if err != nil {
		return err
	}
	r.saved, r.savedAt = r.done, time.Now()
	_, err = r.bus.Replay(ctx, r.stream, bus.ReplayOptions{Since: r.from, After: r.done, Begin: r.prog.begin}, fn)
	if err == nil && finish != nil {
		err = finish(ctx)
	}
	r.prog.end()
	// The checkpoint is written even when ctx ended: that is when it counts.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err != nil {
		if r.done > r.saved {
			if perr := r.cps.Put(cctx, r.key, r.done); perr != nil {
				r.log.Warn("replay: could not record how far it got; a new replay starts over", "err", perr)
			}
		}
		if ctx.Err() != nil && r.done > 0 {
			return fmt.Errorf("replay: interrupted after stream sequence %d (run it again to resume, or with --restart to start over): %w", r.done, err)
		}
		return err
	}
	if err := r.cps.Delete(cctx, r.key); err != nil {
		r.log.Warn("replay: finished, but its checkpoint stays; the next replay resumes after it (or use --restart)", "err", err)
	}
	return nil
}

// handled records that every message up to seq is done, and writes the
// checkpoint once a second.
func (r *replay) handled(ctx context.Context, seq uint64) {
	r.done = seq
	if time.Since(r.savedAt) < checkpointEvery {
		return
	}
	if err := r.cps.Put(ctx, r.key, seq); err != nil {
		r.log.Warn("replay: could not record how far it got", "err", err)
		return
	}
	r.saved, r.savedAt = seq, time.Now()
}

// outcome counts a message's fate, logging the ones that failed: a
// deferred error (a newer schema) is skipped, any other failed.
func (r *replay) outcome(m bus.Msg, seq uint64, err error) {
	switch {
	case err == nil:
		r.prog.add(outcomeDone)
	case fault.Of(err) == fault.Deferred:
		r.prog.add(outcomeSkipped)
		r.log.Warn("replay: skipped, not handled by this version", "subject", m.Subject, "seq", seq, "err", err)
	default:
		r.prog.add(outcomeFailed)
		r.log.Warn("replay: failed", "subject", m.Subject, "seq", seq, "err", err)
	}
}

func (r *replay) raw(ctx context.Context, stdout io.Writer) error {
	w := process.NewWorker(articlePublisher{r.bus})
	err := r.run(ctx, func(ctx context.Context, seq uint64, m bus.Msg) error {
		err := retry(ctx, r.log, m.Subject, func() error { return w.Handle(ctx, m.Data) })
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.outcome(m, seq, err)
		r.handled(ctx, seq)
		return nil
	}, nil)
	p := r.prog
	fmt.Fprintf(stdout, "replayed %d raw articles: %d records published, %d without a record, %d skipped in %s (%.1f/s)\n",
		p.count(), p.ok, p.failed, p.skipped, p.elapsed().Round(time.Millisecond), p.rate())
	return err
}

// replayBatch is how many records replay articles upserts in one
// transaction.
const replayBatch = 100

func (r *replay) articles(ctx context.Context, db articleStore, stdout io.Writer) error {
	var total store.UpsertStats
	type rec struct {
		m   bus.Msg
		seq uint64
		a   process.Article
	}
	var batch []rec
	upsert := func(ctx context.Context, rs []rec) error {
		as := make([]process.Article, len(rs))
		for i, x := range rs {
			as[i] = x.a
		}
		return retry(ctx, r.log, "upsert", func() error {
			st, err := db.Upsert(ctx, as)
			if err == nil {
				total.Add(st)
			}
			return err
		})
	}
	flush := func(ctx context.Context) error {
		if len(batch) == 0 {
			return nil
		}
		err := upsert(ctx, batch)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, x := range batch {
			if err != nil {
				// One bad record fails its batch: find it.
				r.outcome(x.m, x.seq, upsert(ctx, []rec{x}))
			} else {
				r.outcome(x.m, x.seq, nil)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.handled(ctx, batch[len(batch)-1].seq)
		batch = batch[:0]
		return nil
	}
	err := r.run(ctx, func(ctx context.Context, seq uint64, m bus.Msg) error {
		a, err := store.Decode(m.Data)
		if err != nil {
			r.outcome(m, seq, err)
			if len(batch) == 0 {
				r.handled(ctx, seq)
			}
			return nil
		}
		if batch = append(batch, rec{m, seq, a}); len(batch) == replayBatch {
			return flush(ctx)
		}
		return nil
	}, flush)
	fmt.Fprintf(stdout, "replayed %d records: %d inserted, %d updated, %d unchanged, %d failed, %d skipped in %s (%.1f/s)\n",
		r.prog.count(), total.Inserted, total.Updated, total.Unchanged, r.prog.failed, r.prog.skipped,
		r.prog.elapsed().Round(time.Millisecond), r.prog.rate())
	return err
}

// retryLimit is how often a replay tries a message whose error is
// unclassified before it counts it failed. Temporary errors are retried
// until ctx ends.
const retryLimit = 5

// retry calls f until it succeeds, its error is permanent or deferred, or
// ctx ends: a temporary error (NATS or the database away) is retried with
// a growing pause, logged when it begins and every ten tries.
func retry(ctx context.Context, log *slog.Logger, what string, f func() error) error {
	pause := 250 * time.Millisecond
	for try := 1; ; try++ {
		err := f()
		if err == nil || ctx.Err() != nil {
			return err
		}
		switch fault.Of(err) {
		case fault.Permanent, fault.Deferred:
			return err
		case fault.Temporary:
			if try%10 == 1 {
				log.Warn("replay: temporary error; trying again", "what", what, "try", try, "retry_in", pause, "err", err)
			}
		default:
			if try >= retryLimit {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, 15*time.Second)
	}
}
