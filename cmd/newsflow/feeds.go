package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/api"
	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/store"
)

const feedsUsage = `feeds: usage:
  newsflow feeds list [--json]                 every feed with its health
  newsflow feeds add [--title T] URL           a feed's URL, or a site's whose page links to its feeds
  newsflow feeds remove|pause|resume ID|URL... stop polling, keep but stop, poll again
  newsflow feeds import FILE                   add the feeds of an OPML file or a text list ("-": stdin)
  newsflow feeds export                        the feeds as OPML, on stdout
Each takes [--data DIR | --nats URL] (a running 'newsflow run' on DIR, or an external NATS);
list also [--store DSN] for the articles stored (default DATA/newsflow.db, if it exists).`

// cmdFeeds manages the feed registry of a running pipeline: through the
// embedded NATS server of `run` on --data, or an external one (--nats).
func cmdFeeds(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(feedsUsage)
	}
	sub := args[0]
	switch sub {
	case "list", "add", "remove", "pause", "resume", "import", "export":
	default:
		return fmt.Errorf("feeds: unknown subcommand %q\n%s", sub, feedsUsage)
	}
	fs := flag.NewFlagSet("feeds "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var dataDir, natsURL, creds, dsn string
	e.str(&dataDir, "data", "NEWSFLOW_DATA", "newsflow-data", "data folder of the embedded NATS server (of a running 'newsflow run')")
	e.str(&natsURL, "nats", "NATS_URL", "", "external NATS server URL(s)")
	e.str(&creds, "nats-creds", "NATS_CREDS", "", "NATS credentials file for --nats")
	var allowPrivate bool
	e.boolean(&allowPrivate, "allow-private-networks", "NEWSFLOW_ALLOW_PRIVATE_NETWORKS", false, "allow fetching from private-network and loopback addresses (add)")
	var replicas int
	e.replicas(&replicas)
	var title string
	var asJSON bool
	switch sub {
	case "list":
		e.str(&dsn, "store", "NEWSFLOW_STORE", "", "database to count the articles stored in (default DATA/newsflow.db, if it exists)")
		fs.BoolVar(&asJSON, "json", false, "print JSON Lines instead of a table")
	case "add":
		fs.StringVar(&title, "title", "", "name the feed this way instead of by its own title")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if errs := append(e.errs, checkReplicas(replicas)...); len(errs) > 0 {
		return joinLines(errs)
	}
	rest := fs.Args()
	switch {
	case (sub == "list" || sub == "export") && len(rest) > 0:
		return fmt.Errorf("feeds %s: takes no arguments, got %q", sub, rest)
	case (sub == "add" || sub == "import") && len(rest) != 1:
		return fmt.Errorf("feeds %s: give one %s\n%s", sub, map[string]string{"add": "URL", "import": "FILE"}[sub], feedsUsage)
	case (sub == "remove" || sub == "pause" || sub == "resume") && len(rest) == 0:
		return fmt.Errorf("feeds %s: name the feeds by id (see 'newsflow feeds list') or URL", sub)
	}
	b, err := bus.Connect(ctx, bus.Options{URL: natsURL, Creds: creds, DataDir: dataDir, Join: true, Replicas: replicas, Name: "newsflow feeds",
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer b.Close()
	var db any
	if sub == "list" {
		if d, err := openCounts(ctx, dsn, dataDir, natsURL); err != nil {
			fmt.Fprintf(stderr, "newsflow: feeds list: no articles stored column: %v\n", err)
		} else if d != nil {
			defer d.Close()
			db = d
		}
	}
	src, err := feedSources(ctx, b, db, allowPrivate)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		return listFeeds(ctx, src, asJSON, stdout)
	case "add":
		f, links, err := src.Finder.FindFeed(ctx, rest[0])
		if err != nil {
			return fmt.Errorf("feeds add: %w", err)
		}
		if title != "" {
			f.Title = title
		}
		rec, err := src.Registry.AddFeed(ctx, f)
		if err != nil {
			return fmt.Errorf("feeds add: %w", err)
		}
		if len(links) > 1 {
			fmt.Fprintf(stderr, "the page links to %d feeds; added the first that serves one (add others by URL): %s\n", len(links), strings.Join(links, " "))
		}
		fmt.Fprintf(stdout, "added %s %s\n", rec.Token, rec.URL)
		return nil
	case "import":
		return importFeeds(ctx, src, rest[0], stdout)
	case "export":
		recs, err := src.Registry.Feeds(ctx)
		if err != nil {
			return err
		}
		feeds := make([]ingest.Feed, 0, len(recs))
		for _, r := range recs {
			feeds = append(feeds, r.Feed())
		}
		return ingest.WriteOPML(stdout, "newsflow feeds", time.Now(), feeds)
	}
	op := map[string]ingest.FeedOp{"remove": ingest.FeedRemove, "pause": ingest.FeedPause, "resume": ingest.FeedResume}[sub]
	var errs []error
	for _, arg := range rest {
		rec, err := src.Registry.ChangeFeed(ctx, feedID(arg), op)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", arg, err))
			continue
		}
		fmt.Fprintf(stdout, "%sd %s %s\n", sub, rec.Token, rec.URL)
	}
	if len(errs) > 0 {
		return fmt.Errorf("feeds %s: %w", sub, errors.Join(errs...))
	}
	return nil
}

// feedID is the registry key of a feed named by its id or its URL.
func feedID(arg string) string {
	if !strings.Contains(arg, "://") {
		return arg
	}
	if f, err := ingest.NewFeed(arg, ""); err == nil {
		return f.Token
	}
	return arg
}

// openCounts opens the store whose articles `feeds list` counts: --store,
// or the SQLite file of the data folder when there is one (nil, nil when
// there is none, as with an external NATS and no --store).
func openCounts(ctx context.Context, dsn, dataDir, natsURL string) (interface {
	api.FeedCounter
	Close() error
}, error) {
	if dsn == "" {
		dsn = filepath.Join(dataDir, "newsflow.db")
		if _, err := os.Stat(dsn); err != nil {
			if natsURL != "" {
				return nil, nil
			}
			return nil, fmt.Errorf("no database at %s (give --store)", dsn)
		}
	}
	if store.IsPostgres(dsn) {
		return store.OpenPostgres(ctx, dsn)
	}
	return store.OpenSQLiteReadOnly(ctx, dsn)
}

// listFeeds prints every feed's health: a table, or JSON Lines.
func listFeeds(ctx context.Context, src api.Feeds, asJSON bool, stdout io.Writer) error {
	feeds, err := src.Health(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		for _, f := range feeds {
			if err := enc.Encode(f); err != nil {
				return err
			}
		}
		return nil
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tLAST FETCH\tLAST OK\tERRORS\tNEXT POLL\tITEMS\tPUBLISHED\tSTORED\tPARKED\tNO TEXT\tURL\tLAST ERROR")
	for _, f := range feeds {
		state := "active"
		if f.Paused {
			state = "paused"
		} else if f.ErrorStreak > 0 {
			state = "failing"
		}
		stored, noText := "-", "-"
		if f.ArticlesStored != nil {
			stored = strconv.FormatInt(*f.ArticlesStored, 10)
		}
		if f.NoTextShare != nil {
			noText = fmt.Sprintf("%.0f%%", 100**f.NoTextShare)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\t%d\t%s\t%s\t%s\n", f.Token, state, ago(now, f.LastFetch), ago(now, f.LastSuccess),
			f.ErrorStreak, ago(now, f.NextPoll), f.ItemsSeen, f.ItemsPublished, stored, f.PagesParked, noText, f.URL, cut(oneLine(f.LastError), 80))
	}
	return tw.Flush()
}

// ago says how long before (or, "in ...", after) now t is; "-" for none.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return "in " + (-d).String()
	}
	return d.String() + " ago"
}

// cut shortens s to at most n runes.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// importFeeds adds the feeds of the OPML file or text list at path ("-":
// stdin) that are not registered yet.
func importFeeds(ctx context.Context, src api.Feeds, path string, stdout io.Writer) error {
	var feeds []ingest.Feed
	var err error
	if path == "-" {
		feeds, err = ingest.ReadFeedList(os.Stdin)
	} else {
		feeds, err = ingest.LoadFeedList(path)
	}
	if err != nil {
		return fmt.Errorf("feeds import: %w", err)
	}
	if len(feeds) == 0 {
		return fmt.Errorf("feeds import: %s lists no feeds", path)
	}
	added, existing, err := src.Import(ctx, feeds)
	if err != nil {
		return fmt.Errorf("feeds import: %w", err)
	}
	fmt.Fprintf(stdout, "%d feeds added, %d registered already\n", len(added), existing)
	return nil
}
