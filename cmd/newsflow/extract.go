package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/newsflow/newsflow/process"
)

// cmdExtract runs the processor's extraction on local HTML files and prints
// one JSON object per file.
func cmdExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pageURL := fs.String("url", "", "the URL the pages were served from (resolves relative links)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: newsflow extract [--url URL] PATH...\n\nPATH is an HTML file or a folder of *.html files.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("extract: no PATH given")
	}
	var files []string
	for _, p := range fs.Args() {
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			files = append(files, p) // a missing file is reported in its own record
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "*.html"))
		if err != nil {
			return fmt.Errorf("extract: %s: %w", p, err)
		}
		sort.Strings(m)
		files = append(files, m...)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for _, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := enc.Encode(extractFile(f, *pageURL)); err != nil {
			return fmt.Errorf("extract: write: %w", err)
		}
	}
	return nil
}

type extractRecord struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	*process.Article
}

func extractFile(path, pageURL string) extractRecord {
	body, err := os.ReadFile(path)
	if err != nil {
		return extractRecord{File: path, Error: err.Error()}
	}
	st, _ := os.Stat(path)
	a, err := process.Extract(process.Page{URL: pageURL, Body: body, FetchedAt: st.ModTime().UTC().Truncate(time.Second)})
	if errors.Is(err, process.ErrNoContent) {
		// The page parsed and has metadata, only no body text: print the
		// record, with its empty text, as what the page holds.
		return extractRecord{File: path, Article: &a}
	}
	if err != nil {
		return extractRecord{File: path, Error: err.Error()}
	}
	return extractRecord{File: path, Article: &a}
}
