package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/newsflow/newsflow/store"
)

// cmdSearch runs `articles search`: one page of a full-text search of the
// store, read directly (read-only SQLite, so it works beside `run`).
func cmdSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("articles search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var r readerFlags
	r.register(e)
	site := fs.String("site", "", "only articles whose site name is this (ignoring case)")
	limit := fs.Int("limit", 20, fmt.Sprintf("how many articles to show, 1 to %d", store.MaxLimit))
	format := fs.String("format", "text", "output: text (published, feed, title, URL; tab-separated) or jsonl (whole records)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	query := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(query) == "" {
		e.errs = append(e.errs, fmt.Errorf("articles search: no QUERY given (words, \"a phrase\", OR, -excluded)"))
	}
	if *limit < 1 || *limit > store.MaxLimit {
		e.errs = append(e.errs, fmt.Errorf("--limit: %d is not between 1 and %d", *limit, store.MaxLimit))
	}
	if *format != "text" && *format != "jsonl" {
		e.errs = append(e.errs, fmt.Errorf("--format: %q is not text or jsonl", *format))
	}
	if len(e.errs) > 0 {
		return joinLines(e.errs)
	}
	db, err := r.open(ctx)
	if err != nil {
		return fmt.Errorf("articles search: %w", err)
	}
	defer db.Close()
	page, err := db.Search(ctx, store.Query{Q: query, Feed: r.feed, Site: *site, Language: r.language,
		Since: r.since.t, Until: r.until.t, Limit: *limit})
	if qe, ok := store.IsQueryError(err); ok {
		flagName := map[string]string{"q": "QUERY", "until": "--until"}[qe.Param]
		if flagName == "" {
			flagName = "--" + qe.Param
		}
		return fmt.Errorf("articles search: %s: %w", flagName, qe.Err)
	}
	if err != nil {
		return fmt.Errorf("articles search: %w", err)
	}
	w := bufio.NewWriter(stdout)
	if *format == "jsonl" {
		write := jsonlWriter(w)
		for i := range page.Articles {
			if err := write(&page.Articles[i]); err != nil {
				return err
			}
		}
		return w.Flush()
	}
	for _, a := range page.Articles {
		published := "-"
		if !a.Published.IsZero() {
			published = a.Published.UTC().Format(time.DateTime)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", published, a.Feed, oneLine(a.Title), a.URL)
	}
	return w.Flush()
}

// oneLine folds white space, so that a title with a tab or newline stays
// one field of one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
