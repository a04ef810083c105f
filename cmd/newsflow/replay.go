package main

import (
	"context"
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
// idempotent: replaying twice changes nothing more.
func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: newsflow replay raw|articles [--since TIME] [--data DIR | --nats URL] [--store DSN]"
	if len(args) == 0 || (args[0] != "raw" && args[0] != "articles") {
		return fmt.Errorf("replay: %s", use)
	}
	what := args[0]
	fs := flag.NewFlagSet("replay "+what, flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var dataDir, natsURL, creds, dsn, since string
	e.str(&dataDir, "data", "NEWSFLOW_DATA", "newsflow-data", "data folder of the embedded NATS server and the SQLite database")
	e.str(&natsURL, "nats", "NATS_URL", "", "external NATS server URL(s)")
	e.str(&creds, "nats-creds", "NATS_CREDS", "", "NATS credentials file for --nats")
	var replicas int
	e.replicas(&replicas)
	if what == "articles" {
		e.str(&dsn, "store", "NEWSFLOW_STORE", "", "database to fill: a postgres:// URL or libpq key=value string, or a SQLite file (default DATA/newsflow.db)")
	}
	fs.StringVar(&since, "since", "", "replay what was stored from this time on (RFC 3339 or YYYY-MM-DD; default: everything)")
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
	if len(errs) > 0 {
		return joinLines(errs)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := bus.Connect(ctx, bus.Options{URL: natsURL, Creds: creds, DataDir: dataDir, Join: true, Replicas: replicas, Name: "newsflow replay", Logger: log})
	if err != nil {
		return err
	}
	defer b.Close()

	if what == "raw" {
		w := process.NewWorker(articlePublisher{b})
		failed := 0
		n, err := b.Replay(ctx, bus.StreamRaw, from, func(ctx context.Context, m bus.Msg) error {
			if err := w.Handle(ctx, m.Data); err != nil {
				if ctx.Err() != nil || !fault.IsPermanent(err) {
					return err
				}
				failed++
				log.Warn("replay: no record", "subject", m.Subject, "err", err)
			}
			return nil
		})
		fmt.Fprintf(stdout, "replayed %d raw articles: %d records published, %d without a record\n", n, n-failed, failed)
		return err
	}

	if dsn == "" {
		dsn = filepath.Join(dataDir, "newsflow.db")
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("replay: --store: %w", err)
	}
	defer db.Close()
	var total store.UpsertStats
	var batch []process.Article
	flush := func(ctx context.Context) error {
		st, err := db.Upsert(ctx, batch)
		total.Add(st)
		batch = batch[:0]
		return err
	}
	n, err := b.Replay(ctx, bus.StreamArticles, from, func(ctx context.Context, m bus.Msg) error {
		a, err := store.Decode(m.Data)
		if err != nil {
			log.Warn("replay: not a record", "subject", m.Subject, "err", err)
			return nil
		}
		if batch = append(batch, a); len(batch) == 100 {
			return flush(ctx)
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush(ctx)
	}
	fmt.Fprintf(stdout, "replayed %d records: %d inserted, %d updated, %d unchanged\n", n, total.Inserted, total.Updated, total.Unchanged)
	return err
}
