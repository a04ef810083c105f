// Command newsflow is an event-driven news ingestion pipeline: it watches
// feeds, fetches and extracts their articles and stores clean records.
//
// Usage:
//
//	newsflow run [--feeds FILE] [--data DIR] the whole pipeline in one process
//	newsflow extract [--url URL] PATH...     extraction on local HTML files
//	newsflow articles export [--data DIR]    stored articles as JSON Lines or CSV
//	newsflow articles search QUERY           full-text search of the stored articles
//	newsflow demo                            the pipeline on a bundled sample site
//	newsflow feeds list|add|remove|...       the feeds a running pipeline polls
//	newsflow healthcheck                     a container health check
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "newsflow:", err)
		os.Exit(1)
	}
}

const usage = `newsflow: an event-driven news ingestion pipeline

Commands:
  run [--feeds FILE] [--data DIR] run the whole pipeline in one process
  extract [--url URL] PATH...     extract articles from local HTML files
  articles export [--data DIR]    print the stored articles as JSON Lines or CSV
  articles search QUERY           search the stored articles (words, "a phrase", OR, -word)
  articles show | revisions ID    one article with its addresses and versions; how its text changed
  demo                            run the pipeline against a bundled sample site
  feeds list|add|remove|pause|resume|import|export
                                  the feeds a running pipeline polls, with their health
  parked list | retry [SEQ...]    messages that failed for good, and sending them back
  replay raw | articles           extract the stored pages again, or rebuild a database
  ingest | process | store        run one role alone against an external NATS (--nats)
  healthcheck [--url URL]         exit 0 if the status server ($NEWSFLOW_HTTP) is ready

Run "newsflow COMMAND -h" for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, "run", args[1:], []string{"ingest", "process", "store"}, stderr)
	case "ingest", "process", "store":
		return cmdRun(ctx, args[0], args[1:], []string{args[0]}, stderr)
	case "articles":
		return cmdArticles(ctx, args[1:], stdout, stderr)
	case "replay":
		return cmdReplay(ctx, args[1:], stdout, stderr)
	case "parked":
		return cmdParked(ctx, args[1:], stdout, stderr)
	case "feeds":
		return cmdFeeds(ctx, args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "extract":
		return cmdExtract(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		return cmdHealthcheck(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
