package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/ingest"
)

func TestExtractCommand(t *testing.T) {
	dir := t.TempDir()
	page, err := os.ReadFile("demosite/pages/town_library-hours.html")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "b.html"), page, 0o644)
	os.WriteFile(filepath.Join(dir, "a.html"), []byte("<html><head><title>Only a title</title></head><body></body></html>"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a page"), 0o644)
	missing := filepath.Join(dir, "missing.html")

	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"extract", "--url", "https://gazette.example/town/library-hours.html", dir, missing}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3 (a.html, b.html, missing.html): %v", len(recs), recs)
	}
	if recs[0]["file"] != filepath.Join(dir, "a.html") || recs[0]["title"] != "Only a title" || recs[0]["text"] != "" {
		t.Errorf("page without body: %v", recs[0])
	}
	if recs[1]["title"] != "Library extends weekend hours after reader survey" || !strings.Contains(recs[1]["text"].(string), "Sunday afternoons") {
		t.Errorf("article page: title %v text %.80v", recs[1]["title"], recs[1]["text"])
	}
	if recs[2]["file"] != missing || !strings.Contains(recs[2]["error"].(string), "no such file") || recs[2]["title"] != nil {
		t.Errorf("missing file: %v", recs[2])
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	t.Setenv("NEWSFLOW_WORKERS", "many")
	t.Setenv("NEWSFLOW_INTERVAL", "10")
	_, err := parseConfig("run", []string{"--feeds", "/nonexistent/feeds.txt", "--log-level", "loud"},
		[]string{"ingest", "process", "store"}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"$NEWSFLOW_WORKERS", "$NEWSFLOW_INTERVAL", "--feeds", "--log-level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

// TestPollIntervals: --min-interval and --max-interval default to 5m and
// 24h unless --interval lies beyond them, come from the environment, and
// must keep 1s <= min <= interval <= max, with errors naming the setting.
func TestPollIntervals(t *testing.T) {
	feeds := filepath.Join(t.TempDir(), "feeds.txt")
	os.WriteFile(feeds, []byte("https://example.org/feed\n"), 0o644)
	parse := func(args ...string) (config, error) {
		return parseConfig("ingest", append([]string{"--feeds", feeds, "--data", t.TempDir()}, args...), []string{"ingest"}, &bytes.Buffer{})
	}
	for _, tc := range []struct {
		args     []string
		min, max time.Duration
	}{
		{nil, 5 * time.Minute, 24 * time.Hour},
		{[]string{"--interval", "1s"}, time.Second, 24 * time.Hour},
		{[]string{"--interval", "48h"}, 5 * time.Minute, 48 * time.Hour},
		{[]string{"--min-interval", "30s", "--max-interval", "2h"}, 30 * time.Second, 2 * time.Hour},
	} {
		c, err := parse(tc.args...)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if c.minInterval != tc.min || c.maxInterval != tc.max {
			t.Errorf("%v: min %s, max %s; want %s and %s", tc.args, c.minInterval, c.maxInterval, tc.min, tc.max)
		}
	}
	t.Setenv("NEWSFLOW_MAX_INTERVAL", "6h")
	if c, err := parse(); err != nil || c.maxInterval != 6*time.Hour {
		t.Errorf("$NEWSFLOW_MAX_INTERVAL 6h gave %s, %v", c.maxInterval, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-interval", "20m"}, "--min-interval: 20m0s is not between 1s and --interval 15m0s"},
		{[]string{"--min-interval", "10ms"}, "--min-interval: 10ms is not between 1s"},
		{[]string{"--max-interval", "10m"}, "--max-interval: 10m0s is shorter than --interval 15m0s"},
	} {
		if _, err := parse(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.want)
		}
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	feeds := filepath.Join(t.TempDir(), "feeds.txt")
	os.WriteFile(feeds, []byte("https://example.org/feed\n"), 0o644)
	t.Setenv("NEWSFLOW_FEEDS", feeds)
	t.Setenv("NEWSFLOW_DATA", "/var/lib/newsflow")
	t.Setenv("NATS_URL", "nats://nats:4222")
	t.Setenv("NEWSFLOW_ALLOW_PRIVATE_NETWORKS", "true")
	c, err := parseConfig("run", []string{"--workers", "7"}, []string{"ingest", "process", "store"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.feeds != feeds || c.natsURL != "nats://nats:4222" || !c.allowPrivate || c.workers != 7 || c.store != "/var/lib/newsflow/newsflow.db" {
		t.Errorf("config = %+v", c)
	}
}

// TestEmptyFeedListFailsAtStart: a feed list with no feeds is refused before
// any server starts, by an error that names the setting and the file.
func TestEmptyFeedListFailsAtStart(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.txt": "", "comments.txt": "# no feeds yet\n\n", "empty.opml": `<opml version="2.0"><body></body></opml>`} {
		t.Run(name, func(t *testing.T) {
			feeds := filepath.Join(dir, name)
			if err := os.WriteFile(feeds, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(dir, "data-"+name)
			err := cmdRun(t.Context(), "run", []string{"--feeds", feeds, "--data", data}, []string{"ingest", "process", "store"}, &bytes.Buffer{})
			if err == nil {
				t.Fatal("an empty feed list was accepted")
			}
			for _, want := range []string{"--feeds", "$NEWSFLOW_FEEDS", feeds, "no feeds"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not name %q:\n%v", want, err)
				}
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("the data folder was made (a server started) before the feed list was checked: %v", err)
			}
		})
	}
}

func TestPolitenessConfig(t *testing.T) {
	feeds := filepath.Join(t.TempDir(), "feeds.txt")
	os.WriteFile(feeds, []byte("https://example.org/feed\n"), 0o644)
	roles := []string{"ingest", "process", "store"}
	c, err := parseConfig("run", []string{"--feeds", feeds}, roles, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.CheckUserAgent(c.userAgent); err != nil || !strings.HasPrefix(c.userAgent, "newsflow/") {
		t.Errorf("default User-Agent %q: %v", c.userAgent, err)
	}
	if c.perHost != ingest.DefaultPerHost || c.hostSpacing != 0 {
		t.Errorf("defaults: --per-host %d, --host-spacing %s", c.perHost, c.hostSpacing)
	}

	t.Setenv("NEWSFLOW_USER_AGENT", "harbour-reader/3 (+https://harbour.example/bot)")
	t.Setenv("NEWSFLOW_HOST_SPACING", "2s")
	c, err = parseConfig("run", []string{"--feeds", feeds, "--per-host", "1"}, roles, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.userAgent != "harbour-reader/3 (+https://harbour.example/bot)" || c.hostSpacing != 2*time.Second || c.perHost != 1 {
		t.Errorf("config = %+v", c)
	}

	_, err = parseConfig("run", []string{"--feeds", feeds, "--user-agent", "harbour-reader", "--per-host", "0", "--host-spacing", "-1s"}, roles, &bytes.Buffer{})
	for _, want := range []string{"--user-agent", "product and version", "--per-host", "--host-spacing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %q", err, want)
		}
	}
}
