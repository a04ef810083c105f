package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/process"
)

// TestRealPages runs the built binary against a folder of real news pages
// (NEWSFLOW_REAL_PAGES, e.g. the extraction benchmark's pages) served by a
// local feed server, checks that every page is stored exactly once and that
// SIGTERM ends `newsflow run` cleanly within 20 seconds. With
// NEWSFLOW_REAL_PAGES_OUT it writes the stored texts as benchmark
// predictions ({"id", "articleBody"} lines) for the benchmark's scorer.
func TestRealPages(t *testing.T) {
	dir := os.Getenv("NEWSFLOW_REAL_PAGES")
	if dir == "" {
		t.Skip("set NEWSFLOW_REAL_PAGES to a folder of *.html pages")
	}
	pages, err := filepath.Glob(filepath.Join(dir, "*.html"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages in %s: %v", dir, err)
	}
	bin := buildNewsflow(t)

	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/feed.rss", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Real pages</title>`)
		for _, p := range pages {
			id := strings.TrimSuffix(filepath.Base(p), ".html")
			fmt.Fprintf(&b, "<item><title>%s</title><link>%s/p/%s.html</link><guid>%s</guid></item>\n", id, srv.URL, id, id)
		}
		b.WriteString("</channel></rss>")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(b.String()))
	})
	mux.Handle("/p/", http.StripPrefix("/p/", http.FileServer(http.Dir(dir))))

	work := t.TempDir()
	feeds := filepath.Join(work, "feeds.txt")
	os.WriteFile(feeds, []byte(srv.URL+"/feed.rss\n"), 0o644)
	data := filepath.Join(work, "data")
	var logs bytes.Buffer
	cmd := exec.Command(bin, "run", "--feeds", feeds, "--data", data, "--allow-private-networks", "--interval", "1h")
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	export := func() []process.Article { return exportArticles(t, bin, data) }
	deadline := time.Now().Add(5 * time.Minute)
	var stored []process.Article
	for stored = export(); len(stored) < len(pages); stored = export() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d pages stored after 5 minutes; log:\n%s", len(stored), len(pages), tail(logs.String()))
		}
		time.Sleep(500 * time.Millisecond)
	}

	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		took := time.Since(start)
		t.Logf("SIGTERM to exit: %s", took.Round(time.Millisecond))
		if err != nil {
			t.Errorf("run exited with %v; log:\n%s", err, tail(logs.String()))
		}
		if took > 20*time.Second {
			t.Errorf("run took %s to stop after SIGTERM, want at most 20s", took)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("run did not stop within 20s of SIGTERM; log:\n%s", tail(logs.String()))
	}

	stored = export()
	byPage := map[string]int{}
	var preds bytes.Buffer
	for _, a := range stored {
		id := strings.TrimSuffix(filepath.Base(a.Link), ".html")
		byPage[id]++
		line, _ := json.Marshal(map[string]string{"id": id, "articleBody": html.UnescapeString(a.Text)})
		preds.Write(append(line, '\n'))
	}
	for _, p := range pages {
		id := strings.TrimSuffix(filepath.Base(p), ".html")
		if byPage[id] != 1 {
			t.Errorf("page %s stored %d times, want once", id, byPage[id])
		}
	}
	if out := os.Getenv("NEWSFLOW_REAL_PAGES_OUT"); out != "" {
		if err := os.WriteFile(out, preds.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// buildNewsflow builds the binary into a temporary folder.
func buildNewsflow(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "newsflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// exportArticles runs `newsflow articles export` on data; nil if it fails
// (as before the database exists).
func exportArticles(t *testing.T, bin, data string) []process.Article {
	out, err := exec.Command(bin, "articles", "export", "--data", data).Output()
	if err != nil {
		return nil
	}
	var as []process.Article
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var a process.Article
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("export printed a line that is not an article: %v", err)
		}
		as = append(as, a)
	}
	return as
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
