package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCrashRecovery kills `newsflow run` with SIGKILL while it is storing a
// feed of many articles, starts it again on the same folder, and checks
// that every article ends up stored exactly once: what was in flight at the
// crash is delivered again after --ack-wait, and the idempotent effects
// absorb what was done twice.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	const n = 120
	bin := buildNewsflow(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/feed.rss", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour log</title>`)
		for i := range n {
			fmt.Fprintf(&b, "<item><title>Harbour log entry %d</title><link>%s/log/%d.html</link><guid>log-%d</guid></item>\n", i, srv.URL, i, i)
		}
		b.WriteString("</channel></rss>")
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(b.String()))
	})
	mux.HandleFunc("/log/", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond) // a page takes a moment, so the crash lands mid-stream
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/log/"), ".html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html lang="en"><head><title>Harbour log entry %[1]s</title></head><body><article><h1>Harbour log entry %[1]s</h1>
<p>Entry %[1]s of the harbour log: the morning ferry left on time with forty passengers and two lorries, and the pilot boat went out twice to meet cargo ships waiting in the roads.</p>
<p>The harbour master noted a light easterly wind, a falling tide at noon and a delivery of diesel for the fishing fleet, which stayed in port because of the forecast for the afternoon.</p>
</article></body></html>`, id)
	})

	work := t.TempDir()
	feeds := filepath.Join(work, "feeds.txt")
	os.WriteFile(feeds, []byte(srv.URL+"/feed.rss\n"), 0o644)
	data := filepath.Join(work, "data")
	args := []string{"run", "--feeds", feeds, "--data", data, "--allow-private-networks", "--interval", "3s", "--ack-wait", "2s"}
	var logs bytes.Buffer
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	waitStored := func(min int, within time.Duration) int {
		deadline := time.Now().Add(within)
		for {
			got := len(exportArticles(t, bin, data))
			if got >= min {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d articles stored after %s, want %d; log:\n%s", got, within, min, tail(logs.String()))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	first := start()
	before := waitStored(10, time.Minute)
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	t.Logf("killed with %d of %d articles stored", before, n)

	second := start()
	defer second.Process.Kill()
	waitStored(n, 2*time.Minute)
	second.Process.Signal(syscall.SIGTERM)
	if err := second.Wait(); err != nil {
		t.Errorf("run after the crash exited with %v", err)
	}
	seen := map[string]int{}
	for _, a := range exportArticles(t, bin, data) {
		seen[a.Link]++
	}
	for i := range n {
		if link := fmt.Sprintf("%s/log/%d.html", srv.URL, i); seen[link] != 1 {
			t.Errorf("%s stored %d times, want once", link, seen[link])
		}
	}
}
