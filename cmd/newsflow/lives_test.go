package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// TestArticleAcrossItsLives runs the pipeline against a site whose one
// story is served under three addresses and edited twice: first through
// a tracking link, then under its AMP address with a correction and a new
// GUID, then moved to a new slug (the old address redirects) with another
// correction and another GUID. The Atom feed stamps its entry with a new
// updated time, and no published time, at every build. One row, two
// revisions, every address kept; the rebuilds add nothing.
func TestArticleAcrossItsLives(t *testing.T) {
	var stage atomic.Int32
	var builds atomic.Int32
	var mu sync.Mutex
	pageHits := map[string]int{}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	texts := []string{
		"The harbour master said the north pier will close for repairs on Monday, and the ferry will use the south pier until the work is done.",
		"The harbour master said the north pier will close for repairs on Tuesday, and the ferry will use the south pier until the work is done.",
		"The harbour master said the north pier will close for repairs on Tuesday, and the ferry will use the old fish quay until the work is done.",
	}
	page := func(canonical, text string) string {
		link := ""
		if canonical != "" {
			link = `<link rel="canonical" href="` + srv.URL + canonical + `">`
		}
		return `<html lang="en"><head><title>North pier to close</title>` + link + `</head><body><article><h1>North pier to close</h1>
<p>` + text + `</p><p>Fishing boats may still land their catch at the north pier in the early morning, the harbour office added in a notice posted on the quay.</p></article></body></html>`
	}
	mux.HandleFunc("/feed.atom", func(w http.ResponseWriter, r *http.Request) {
		updated := time.Date(2026, 5, 1, 9, 0, int(builds.Add(1)), 0, time.UTC).Format(time.RFC3339)
		id, link := "urn:harbour:pier", "/story?utm_source=feed&amp;utm_medium=atom"
		switch stage.Load() {
		case 1:
			id, link = "urn:harbour:pier-amp", "/story/amp"
		case 2:
			id, link = "urn:harbour:77", "/story"
		}
		w.Header().Set("Content-Type", "application/atom+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Harbour</title><id>urn:harbour</id><updated>%[1]s</updated>
<entry><id>%[2]s</id><title>North pier to close</title><link href="%[3]s%[4]s"/><updated>%[1]s</updated></entry></feed>`, updated, id, srv.URL, link)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pageHits[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch {
		case r.URL.Path == "/story" && stage.Load() == 2:
			http.Redirect(w, r, "/2026/north-pier-closes", http.StatusMovedPermanently)
		case r.URL.Path == "/story":
			fmt.Fprint(w, page("/story", texts[0]))
		case r.URL.Path == "/story/amp":
			fmt.Fprint(w, page("", texts[1]))
		case r.URL.Path == "/2026/north-pier-closes":
			fmt.Fprint(w, page("/2026/north-pier-closes", texts[2]))
		default:
			http.NotFound(w, r)
		}
	})
	feeds := filepath.Join(t.TempDir(), "feeds.txt")
	if err := os.WriteFile(feeds, []byte(srv.URL+"/feed.atom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(feeds, t.TempDir())
	cfg.interval = time.Second
	r := startPipeline(t, cfg)
	defer r.stop(t)

	eventually(t, "the story stored", func() bool { return r.storedStats().Inserted == 1 })
	// Rebuilds of the feed with the page unchanged: fetched again, not
	// stored again.
	eventually(t, "two rebuilds", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return pageHits["/story"] >= 3
	})
	if st := r.storedStats(); st.Updated != 0 || st.Unchanged != 0 {
		t.Errorf("rebuilds of an unchanged page stored %+v", st)
	}
	stage.Store(1)
	eventually(t, "the AMP correction stored", func() bool { return r.storedStats().Updated == 1 })
	stage.Store(2)
	eventually(t, "the moved story stored", func() bool { return r.storedStats().Updated == 2 })
	b := builds.Load()
	eventually(t, "two more rebuilds", func() bool { return builds.Load() >= b+2 })

	st := r.storedStats()
	if st.Inserted != 1 || st.Updated != 2 || st.Revised != 2 {
		t.Errorf("stored %+v, want one insert and two revised updates", st)
	}
	rows := readAll(t, cfg.store)
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1: %v", len(rows), keys(rows))
	}
	a := rows[srv.URL+"/2026/north-pier-closes"]
	if !strings.HasPrefix(a.Text, texts[2]) {
		t.Errorf("stored %s: %q", a.URL, a.Text)
	}
	if a.ID != process.ArticleID(srv.URL+"/story") {
		t.Errorf("id %s, want the first address's", a.ID)
	}
	db, err := store.OpenSQLiteReadOnly(t.Context(), cfg.store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	revs, err := db.Revisions(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 2 || !strings.HasPrefix(revs[0].Article.Text, texts[0]) || !strings.HasPrefix(revs[1].Article.Text, texts[1]) {
		t.Fatalf("revisions = %+v, want the first two texts", revs)
	}
	aliases, err := db.Aliases(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, al := range aliases {
		urls = append(urls, al.URL)
	}
	for _, want := range []string{"/story", "/story/amp", "/2026/north-pier-closes"} {
		if !slices.Contains(urls, srv.URL+want) {
			t.Errorf("aliases %q lack %s", urls, want)
		}
	}
}
