package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/process"
)

// cmdExtract runs the processor's extraction on local HTML files and prints
// one JSON object per file, in the order given, extracting GOMAXPROCS files
// at a time. It fails when every file failed.
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
	failed := 0
	err := inOrder(ctx, len(files), runtime.GOMAXPROCS(0),
		func(i int) extractRecord {
			return extractFile(files[i], *pageURL, ingest.DefaultMaxBodyBytes, process.Extract)
		},
		func(r extractRecord) error {
			if r.Error != "" {
				failed++
			}
			if err := enc.Encode(r); err != nil {
				return fmt.Errorf("extract: write: %w", err)
			}
			return nil
		})
	if err != nil {
		return err
	}
	if failed > 0 && failed == len(files) {
		return fmt.Errorf("extract: all %d files failed", failed)
	}
	return nil
}

// inOrder runs do(i) for every i below n on workers goroutines and hands
// the results to emit in the order of i. At most 2×workers results wait
// for emit, however slow one do is. It returns emit's first error, or the
// context's, once every do it started has returned.
func inOrder[R any](ctx context.Context, n, workers int, do func(int) R, emit func(R) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]chan R, n)
	for i := range results {
		results[i] = make(chan R, 1)
	}
	window := make(chan struct{}, 2*workers)
	jobs := make(chan int)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		defer close(jobs)
		for i := range n {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	})
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				results[i] <- do(i)
			}
		})
	}
	for i := range n {
		select {
		case r := <-results[i]:
			if err := emit(r); err != nil {
				return err
			}
			<-window
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type extractRecord struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	*process.Article
}

func extractFile(path, pageURL string, maxBytes int64, extract func(process.Page) (process.Article, error)) (rec extractRecord) {
	body, modTime, err := readPage(path, maxBytes)
	if err != nil {
		return extractRecord{File: path, Error: err.Error()}
	}
	defer func() {
		// One page that trips the extractor is that file's error, not the
		// end of a run over thousands.
		if r := recover(); r != nil {
			rec = extractRecord{File: path, Error: fmt.Sprintf("extraction panicked: %v", r)}
		}
	}()
	a, err := extract(process.Page{URL: pageURL, Body: body, FetchedAt: modTime.UTC().Truncate(time.Second)})
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

// readPage reads a regular file of at most maxBytes (the limit of a
// fetched page). Anything else (a named pipe, a device such as /dev/zero,
// a socket, a folder) is refused before it is opened, so that it can
// neither hang the command nor fill its memory.
func readPage(path string, maxBytes int64) ([]byte, time.Time, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := regularPage(path, st, maxBytes); err != nil {
		return nil, time.Time{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	// The file may have been replaced since the first look.
	if now, err := f.Stat(); err != nil || !os.SameFile(st, now) {
		return nil, time.Time{}, fmt.Errorf("%s: changed while it was opened", path)
	}
	body, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, time.Time{}, err
	}
	if int64(len(body)) > maxBytes {
		return nil, time.Time{}, fmt.Errorf("%s: larger than the %d-byte limit of a page", path, maxBytes)
	}
	return body, st.ModTime(), nil
}

// regularPage refuses what is not a regular file within maxBytes.
func regularPage(path string, st fs.FileInfo, maxBytes int64) error {
	m := st.Mode()
	var kind string
	switch {
	case m.IsRegular():
		if st.Size() > maxBytes {
			return fmt.Errorf("%s: %d bytes, larger than the %d-byte limit of a page", path, st.Size(), maxBytes)
		}
		return nil
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m.IsDir():
		kind = "a folder"
	default:
		kind = "of type " + m.Type().String()
	}
	return fmt.Errorf("%s: not a regular file: it is %s", path, kind)
}
