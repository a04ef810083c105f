package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
)

// TestParkedRetryFetchesAgain: a page that answered 500 until its item was
// given up is parked; `parked retry` while it still fails leaves it parked
// with the new error; once the page is fixed, `parked retry` fetches it
// again and the article is stored.
func TestParkedRetryFetchesAgain(t *testing.T) {
	var fixed atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Mended Gazette</title>
<item><title>The quay wall is mended</title><link>http://%s/quay.html</link><guid>quay-1</guid></item></channel></rss>`, r.Host)
		case "/quay.html":
			if !fixed.Load() {
				http.Error(w, "the database is on fire", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html lang="en"><head><title>The quay wall is mended</title></head><body><article><h1>The quay wall is mended</h1>`+
				strings.Repeat("<p>Masons worked through the week to close the gap in the old quay wall before the spring tides, and the harbour master says boats may tie up again.</p>", 4)+
				`</article></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.txt")
	if err := os.WriteFile(feeds, []byte(srv.URL+"/feed.xml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(feeds, filepath.Join(dir, "data"))
	cfg.interval = time.Second // the page's five attempts take five polls
	r := startPipeline(t, cfg)
	defer r.stop(t)
	eventually(t, "the failing page parked", func() bool { return streamCount(t, r.bus, bus.StreamParked) == 1 })

	retry := func() error {
		return cmdParked(t.Context(), []string{"retry", "--data", cfg.dataDir, "--allow-private-networks", "--all"}, &bytes.Buffer{}, &bytes.Buffer{})
	}
	if err := retry(); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("retry of a page that still fails: %v, want its new error", err)
	}
	if n := streamCount(t, r.bus, bus.StreamParked); n != 1 {
		t.Fatalf("%d parked after a failed retry, want the message kept", n)
	}
	fixed.Store(true)
	if err := retry(); err != nil {
		t.Fatalf("parked retry: %v", err)
	}
	eventually(t, "the mended page stored", func() bool { return r.storedStats().Inserted == 1 })
	if n := streamCount(t, r.bus, bus.StreamParked); n != 0 {
		t.Errorf("%d still parked", n)
	}
}
