package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

const articlesUsage = `articles: usage:
  newsflow articles export [--data DIR | --store DSN] [--feed F] [--language L] [--since T] [--until T] [--format jsonl|csv]
  newsflow articles search [--data DIR | --store DSN] [--feed F] [--site S] [--language L] [--since T] [--until T] [--limit N] [--format text|jsonl] QUERY
  newsflow articles show [--data DIR | --store DSN] ID
  newsflow articles revisions [--data DIR | --store DSN] [--diff unified|words] ID`

// cmdArticles runs the `articles` subcommands.
func cmdArticles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", articlesUsage)
	}
	switch args[0] {
	case "export":
		return cmdExport(ctx, args[1:], stdout, stderr)
	case "search":
		return cmdSearch(ctx, args[1:], stdout, stderr)
	case "show":
		return cmdShow(ctx, args[1:], stdout, stderr)
	case "revisions":
		return cmdRevisions(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("articles: unknown subcommand %q\n%s", args[0], articlesUsage)
}

// readerFlags are the flags of the commands that read the store directly.
type readerFlags struct {
	dataDir, dsn, feed, language string
	since, until                 timeFlag
}

func (r *readerFlags) register(e *envFlags) {
	e.str(&r.dataDir, "data", "NEWSFLOW_DATA", "newsflow-data", "data folder whose SQLite database to read")
	e.secret(&r.dsn, "store", "NEWSFLOW_STORE", "database: a postgres:// URL or libpq key=value string, or a SQLite file (default DATA/newsflow.db)")
	e.fs.StringVar(&r.feed, "feed", "", "only articles of this feed")
	e.fs.StringVar(&r.language, "language", "", "only articles in this language (e.g. en)")
	e.fs.Var(&r.since, "since", "only articles published at or after this date (2026-03-14) or RFC 3339 time")
	e.fs.Var(&r.until, "until", "only articles published before this date or RFC 3339 time")
}

// reader is what the reading commands need of a store.
type reader interface {
	Each(ctx context.Context, fn func(process.Article) error) error
	Search(ctx context.Context, q store.Query) (store.Page, error)
	Close() error
}

// open opens the store for reading; a SQLite file read-only, so that it
// works while `run` holds the folder.
func (r *readerFlags) open(ctx context.Context) (reader, error) {
	dsn := r.dsn
	if dsn == "" {
		dsn = filepath.Join(r.dataDir, "newsflow.db")
	}
	var db reader
	var err error
	if store.IsPostgres(dsn) {
		db, err = store.OpenPostgres(ctx, dsn)
	} else {
		db, err = store.OpenSQLiteReadOnly(ctx, dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", store.RedactDSN(dsn), err)
	}
	return db, nil
}

// timeFlag is a date (midnight UTC) or an RFC 3339 time.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			f.t = t
			return nil
		}
	}
	return fmt.Errorf("%q is not a date (2026-03-14) or an RFC 3339 time (2026-03-14T09:30:00Z)", s)
}

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("articles export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var r readerFlags
	r.register(e)
	format := fs.String("format", "jsonl", "output format: jsonl (whole records) or csv (the main fields, a header line first)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		e.errs = append(e.errs, fmt.Errorf("articles export: unexpected argument %q", fs.Arg(0)))
	}
	if *format != "jsonl" && *format != "csv" {
		e.errs = append(e.errs, fmt.Errorf("--format: %q is not jsonl or csv", *format))
	}
	if !r.since.t.IsZero() && !r.until.t.IsZero() && !r.since.t.Before(r.until.t) {
		e.errs = append(e.errs, fmt.Errorf("--until: %s is not after --since %s", &r.until, &r.since))
	}
	if len(e.errs) > 0 {
		return joinLines(e.errs)
	}
	db, err := r.open(ctx)
	if err != nil {
		return fmt.Errorf("articles export: %w", err)
	}
	defer db.Close()
	w := bufio.NewWriterSize(stdout, 64<<10)
	write := jsonlWriter(w)
	if *format == "csv" {
		write = csvWriter(w)
	}
	keep := func(a *process.Article) bool {
		return (r.feed == "" || a.Feed == r.feed) && (r.language == "" || a.Language == r.language) &&
			(r.since.t.IsZero() || !a.Published.IsZero() && !a.Published.Before(r.since.t)) &&
			(r.until.t.IsZero() || !a.Published.IsZero() && a.Published.Before(r.until.t))
	}
	err = db.Each(ctx, func(a process.Article) error {
		if !keep(&a) {
			return nil
		}
		return write(&a)
	})
	if err == nil {
		err = write(nil)
	}
	if err != nil {
		return fmt.Errorf("articles export: %w", err)
	}
	return w.Flush()
}

// jsonlWriter writes each article as a line of JSON; nil ends the output.
func jsonlWriter(w io.Writer) func(*process.Article) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return func(a *process.Article) error {
		if a == nil {
			return nil
		}
		return enc.Encode(a)
	}
}

// csvColumns are the columns of `articles export --format csv`.
var csvColumns = []string{"id", "url", "feed", "title", "authors", "published", "language", "site_name", "section",
	"description", "tags", "word_count", "duplicate_of", "fetched_at", "text"}

// csvWriter writes a header, then one row an article; lists are joined
// with "; ", times in RFC 3339. nil flushes.
func csvWriter(w io.Writer) func(*process.Article) error {
	cw := csv.NewWriter(w)
	header := false
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return func(a *process.Article) error {
		if !header {
			header = true
			if err := cw.Write(csvColumns); err != nil {
				return err
			}
		}
		if a == nil {
			cw.Flush()
			return cw.Error()
		}
		return cw.Write([]string{a.ID, a.URL, a.Feed, a.Title, strings.Join(a.Authors, "; "), when(a.Published),
			a.Language, a.SiteName, a.Section, a.Description, strings.Join(a.Tags, "; "), strconv.Itoa(a.WordCount),
			a.DuplicateOf, when(a.FetchedAt), a.Text})
	}
}
