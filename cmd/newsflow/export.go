package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// cmdArticles runs the `articles` subcommands.
func cmdArticles(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return fmt.Errorf("articles: usage: newsflow articles export [--data DIR | --store DSN]")
	}
	fs := flag.NewFlagSet("articles export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var dataDir, dsn string
	e.str(&dataDir, "data", "NEWSFLOW_DATA", "newsflow-data", "data folder whose SQLite database to read")
	e.str(&dsn, "store", "NEWSFLOW_STORE", "", "database: a postgres:// URL or libpq key=value string, or a SQLite file (default DATA/newsflow.db)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if len(e.errs) > 0 {
		return joinLines(e.errs)
	}
	if dsn == "" {
		dsn = filepath.Join(dataDir, "newsflow.db")
	}
	var db interface {
		Each(ctx context.Context, fn func(process.Article) error) error
		Close() error
	}
	var err error
	if store.IsPostgres(dsn) {
		db, err = store.OpenPostgres(ctx, dsn)
	} else {
		db, err = store.OpenSQLiteReadOnly(ctx, dsn)
	}
	if err != nil {
		return fmt.Errorf("articles export: open %s: %w", store.RedactDSN(dsn), err)
	}
	defer db.Close()
	w := bufio.NewWriterSize(stdout, 64<<10)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := db.Each(ctx, func(a process.Article) error { return enc.Encode(a) }); err != nil {
		return fmt.Errorf("articles export: %w", err)
	}
	return w.Flush()
}
