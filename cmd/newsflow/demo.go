package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// demoSite is a small news site written for the demo: three feeds (RSS,
// Atom, JSON Feed) and their article pages.
//
//go:embed demosite
var demoSite embed.FS

// demoFeeds maps the demo's feed paths to their files.
var demoFeeds = map[string]string{
	"/feeds/town.rss":     "demosite/rss.xml",
	"/feeds/science.atom": "demosite/atom.xml",
	"/feeds/sport.json":   "demosite/feed.json",
}

// cmdDemo serves the bundled site on a loopback port, runs the whole
// pipeline against it in a temporary data folder, and prints what it stored.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.String("data", "", "data folder to keep (default: a temporary one, removed at the end)")
	verbose := fs.Bool("v", false, "log what the stages do")
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the articles")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := *keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "newsflow-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: listen on loopback: %w", err)
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: demoHandler(base), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	feeds, err := demoSite.ReadFile("demosite/feeds.txt")
	if err != nil {
		return err
	}
	feedsFile := filepath.Join(dir, "feeds.txt")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(feedsFile, []byte(strings.ReplaceAll(string(feeds), "{{BASE}}", base)), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	pages, _ := demoSite.ReadDir("demosite/pages")
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := config{feeds: feedsFile, dataDir: filepath.Join(dir, "data"), allowPrivate: true, interval: time.Hour,
		workers: 2, replicas: 1, maxDeliver: 5, ackWait: 15 * time.Second, roles: []string{"ingest", "process", "store"}}
	cfg.store = filepath.Join(cfg.dataDir, "newsflow.db")
	small := bus.Limits{MaxAge: 24 * time.Hour, MaxBytes: 64 << 20}
	cfg.retention = bus.Retention{Raw: small, Articles: small, Parked: small, Bodies: small, Seen: small}
	fmt.Fprintf(stdout, "Serving the demo site at %s; running the pipeline in %s\n", base, cfg.dataDir)

	p, err := newPipeline(ctx, cfg, log)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.run(runCtx) }()
	deadline := time.After(*timeout)
	tick := time.NewTicker(50 * time.Millisecond)
wait:
	for p.storedStats().Inserted < len(pages) {
		select {
		case <-tick.C:
		case <-deadline:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	tick.Stop()
	stop()
	runErr := <-done
	p.close()
	if runErr != nil {
		return fmt.Errorf("demo: %w", runErr)
	}
	db, err := store.OpenSQLiteReadOnly(ctx, cfg.store)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer db.Close()
	var stored []process.Article
	if err := db.Each(ctx, func(a process.Article) error { stored = append(stored, a); return nil }); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	slices.SortFunc(stored, func(a, b process.Article) int { return a.Published.Compare(b.Published) })
	for _, a := range stored {
		fmt.Fprintf(stdout, "  %s  %-58s %s, %d words\n", a.PublishedLocal.Format("2006-01-02 15:04"), a.Title, strings.Join(a.Authors, ", "), a.WordCount)
	}
	n := len(stored)
	fmt.Fprintf(stdout, "Stored %d of the %d articles of the demo site.\n", n, len(pages))
	if n < len(pages) {
		return errors.New("demo: not every article was stored; run with -v to see why")
	}
	return nil
}

// demoHandler serves the demo site, with base in place of {{BASE}}.
func demoHandler(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := demoFeeds[r.URL.Path]
		ctype := "application/xml"
		if strings.HasSuffix(name, ".json") {
			ctype = "application/feed+json"
		}
		if !ok && path.Ext(r.URL.Path) == ".html" {
			name = "demosite/pages/" + strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/"), "/", "_")
			ctype = "text/html; charset=utf-8"
		}
		b, err := demoSite.ReadFile(name)
		if name == "" || err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ctype)
		io.WriteString(w, strings.ReplaceAll(string(b), "{{BASE}}", base))
	})
}
