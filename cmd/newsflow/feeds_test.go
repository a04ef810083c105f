package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/ingest"
)

// twoPapers serves two small papers: the Quay Gazette's feed at /quay.xml,
// and the Moor Courier's site at /moor/, whose page links to /moor.xml.
func twoPapers(t *testing.T) *httptest.Server {
	page := func(title string) string {
		return `<html lang="en"><head><title>` + title + `</title></head><body><article><h1>` + title + `</h1>` +
			strings.Repeat("<p>The parish council met in the old school hall on Tuesday and agreed, after a long evening, to mend the footpath before the summer fair.</p>", 4) +
			`</article></body></html>`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/quay.xml", "/moor.xml":
			name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".xml")
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>The %s paper</title>
<item><title>News from the %s</title><link>http://%s/%s/story.html</link><guid>%s-1</guid></item></channel></rss>`, name, name, r.Host, name, name)
		case "/moor/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><head><title>Moor Courier</title><link rel="alternate" type="application/rss+xml" href="/moor.xml"></head><body>Welcome.</body></html>`)
		case "/quay/story.html", "/moor/story.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page("News from "+r.URL.Path))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFeedsCommand: `newsflow feeds` changes the feeds of a running
// pipeline through its embedded NATS: a site added by its address is
// polled and its article stored, the list shows both feeds' health, pause,
// export, remove and import work, and mistakes are named.
func TestFeedsCommand(t *testing.T) {
	srv := twoPapers(t)
	dir := t.TempDir()
	list := filepath.Join(dir, "feeds.txt")
	if err := os.WriteFile(list, []byte(srv.URL+"/quay.xml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(list, filepath.Join(dir, "data"))
	r := startPipeline(t, cfg)
	defer r.stop(t)
	eventually(t, "the seeded feed's article stored", func() bool { return r.storedStats().Inserted == 1 })

	feeds := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := cmdFeeds(t.Context(), append(append(args[:1:1], "--data", cfg.dataDir), args[1:]...), &out, &errOut)
		if err != nil {
			t.Logf("feeds %v: %v\n%s", args, err, errOut.String())
		}
		return out.String(), err
	}
	out, err := feeds("add", "--allow-private-networks", srv.URL+"/moor/")
	if err != nil || !strings.Contains(out, srv.URL+"/moor.xml") {
		t.Fatalf("add by site: %q %v", out, err)
	}
	eventually(t, "the added feed's article stored", func() bool { return r.storedStats().Inserted == 2 })

	moor, _ := ingest.NewFeed(srv.URL+"/moor.xml", "")
	quay, _ := ingest.NewFeed(srv.URL+"/quay.xml", "")
	out, err = feeds("list")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("feeds list:\n%s", out)
	for _, want := range []string{"ID", "LAST FETCH", "STORED", moor.Token, quay.Token, "active"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	if _, err := feeds("pause", srv.URL+"/quay.xml"); err != nil {
		t.Fatal(err)
	}
	out, err = feeds("list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var paused, stored int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f struct {
			Token          string `json:"token"`
			Paused         bool   `json:"paused"`
			ArticlesStored *int   `json:"articles_stored"`
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("%v in %q", err, line)
		}
		if f.Paused {
			paused++
		}
		if f.ArticlesStored != nil {
			stored += *f.ArticlesStored
		}
	}
	if paused != 1 || stored != 2 {
		t.Errorf("list --json: %d paused, %d stored; want 1 and 2:\n%s", paused, stored, out)
	}

	opml, err := feeds("export")
	if err != nil {
		t.Fatal(err)
	}
	exported, err := ingest.ReadFeedList(strings.NewReader(opml))
	if err != nil || len(exported) != 2 {
		t.Fatalf("export: %v %v\n%s", exported, err, opml)
	}
	if _, err := feeds("remove", moor.Token, quay.Token); err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(dir, "export.opml")
	os.WriteFile(saved, []byte(opml), 0o644)
	if out, err := feeds("import", saved); err != nil || !strings.Contains(out, "2 feeds added, 0 registered already") {
		t.Errorf("import: %q %v", out, err)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "--allow-private-networks", srv.URL + "/moor.xml"}, "already registered"},
		{[]string{"add", srv.URL + "/moor.xml"}, "127.0.0.1"}, // the guard, without --allow-private-networks
		{[]string{"add", "--allow-private-networks", srv.URL + "/nothing-here"}, "404"},
		{[]string{"pause", "no-such-feed"}, "no such feed"},
		{[]string{"add"}, "give one URL"},
		{[]string{"list", "extra"}, "takes no arguments"},
		{[]string{"rename"}, "unknown subcommand"},
	} {
		if _, err := feeds(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("feeds %v: %v, want an error naming %q", tt.args, err, tt.want)
		}
	}
}
