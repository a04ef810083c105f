package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/newsflow/newsflow/cmd/internal/bus"
)

// loopbackAddr is a free address on 127.0.0.1 for a status server.
func loopbackAddr(t *testing.T) string {
	return fmt.Sprintf("127.0.0.1:%d", freePort(t))
}

// scrape gets url (a /metrics endpoint) and parses it, failing the test
// unless every family has a HELP and a TYPE line.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v\n%s", url, resp.Status, err, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("%s: %v\n%s", url, err, body)
	}
	text := string(body)
	for name, f := range families {
		if f.GetHelp() == "" || !strings.Contains(text, "# HELP "+name+" ") {
			t.Errorf("%s has no HELP", name)
		}
		if !strings.Contains(text, "# TYPE "+name+" ") || f.GetType() == dto.MetricType_UNTYPED {
			t.Errorf("%s has no TYPE", name)
		}
	}
	return families
}

// sum adds up a counter's or a gauge's series, or a histogram's sample
// counts, whose labels include the given ones (name, value pairs).
func sum(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	var total float64
	f, ok := families[name]
	if !ok {
		return -1
	}
series:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			if !hasLabel(m, labels[i], labels[i+1]) {
				continue series
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.Label {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// The whole pipeline's /metrics, scraped from its --http server after it
// stored the test site's articles: every family has HELP and TYPE, and the
// latency histograms and counters counted the articles.
func TestMetricsOfRunningPipeline(t *testing.T) {
	site := newTestSite(t)
	cfg := testConfig(site.feedList(t), t.TempDir())
	cfg.httpAddr = loopbackAddr(t)
	r := startPipeline(t, cfg)
	defer r.stop(t)
	const stored, pages = 6, 7 // the missing page is parked
	eventually(t, "6 articles stored", func() bool { return r.storedStats().Inserted == stored })
	eventually(t, "the missing page parked", func() bool { return streamCount(t, r.bus, bus.StreamParked) == 1 })

	families := scrape(t, "http://"+cfg.httpAddr+"/metrics")
	checks := []struct {
		what     string
		got      float64
		min, max float64
	}{
		{"newsflow_build_info", sum(families, "newsflow_build_info"), 1, 1},
		{"go_goroutines", sum(families, "go_goroutines"), 1, 1e6},
		{"process_resident_memory_bytes", sum(families, "process_resident_memory_bytes"), 1, 1e12},
		{"feed fetches", sum(families, "newsflow_fetch_duration_seconds", "kind", "feed"), 1, 1e6},
		{"page fetches", sum(families, "newsflow_fetch_duration_seconds", "kind", "page"), pages, 1e6},
		{"extractions", sum(families, "newsflow_extraction_duration_seconds"), pages, 1e6},
		{"pages processed", sum(families, "newsflow_feed_pages_processed_total", "outcome", "ok"), stored, 1e6},
		{"pages failed", sum(families, "newsflow_feed_pages_processed_total", "outcome", "error"), 1, 1},
		{"store transactions", sum(families, "newsflow_store_duration_seconds"), 1, stored * 2},
		{"feed to store", sum(families, "newsflow_feed_to_store_seconds"), stored, 1e6},
		{"records stored per feed", sum(families, "newsflow_feed_records_stored_total"), stored, 1e6},
		{"records stored by feed other", sum(families, "newsflow_feed_records_stored_total", "feed", "other"), 0, 0},
		{"inserted", sum(families, "newsflow_articles_stored_total", "outcome", "inserted"), stored, stored},
		{"items published", sum(families, "newsflow_items_published_total"), pages, pages},
		{"parked", sum(families, "newsflow_parked"), 1, 1},
		{"store backlog", sum(families, "newsflow_consumer_pending", "consumer", bus.ConsumerStore), 0, 1e6},
	}
	for _, c := range checks {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: %v, want %v to %v", c.what, c.got, c.min, c.max)
		}
	}
	// Each stored record is timed from fetch to store once per time it is
	// stored, and counted once for its feed.
	if a, b := sum(families, "newsflow_feed_to_store_seconds"), sum(families, "newsflow_feed_records_stored_total"); a != b {
		t.Errorf("feed-to-store samples %v, records stored per feed %v", a, b)
	}
}

// A process runs only its roles' metrics: a processor has no fetch or
// store histograms.
func TestMetricsOfOneRole(t *testing.T) {
	cfg := testConfig("", t.TempDir())
	cfg.roles = []string{"process"}
	cfg.httpAddr = loopbackAddr(t)
	r := startPipeline(t, cfg)
	defer r.stop(t)
	url := "http://" + cfg.httpAddr + "/metrics"
	eventually(t, "/metrics answering", func() bool {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	families := scrape(t, url)
	for _, name := range []string{"newsflow_fetch_duration_seconds", "newsflow_store_duration_seconds", "newsflow_articles_stored_total", "newsflow_feeds_polled_total"} {
		if _, ok := families[name]; ok {
			t.Errorf("a processor reports %s", name)
		}
	}
	if _, ok := families["newsflow_extraction_duration_seconds"]; !ok {
		t.Error("a processor does not report newsflow_extraction_duration_seconds")
	}
}

// The feed label takes at most maxFeedLabels values: later feeds are
// counted as "other", earlier ones keep their own.
func TestFeedLabelBound(t *testing.T) {
	m := &metrics{feeds: map[string]bool{}}
	for i := range maxFeedLabels {
		if got := m.feed(fmt.Sprint("feed-", i)); got != fmt.Sprint("feed-", i) {
			t.Fatalf("feed %d labelled %q", i, got)
		}
	}
	if got := m.feed("one-too-many"); got != "other" {
		t.Errorf("feed past the bound labelled %q, want other", got)
	}
	if got := m.feed("feed-0"); got != "feed-0" {
		t.Errorf("a known feed labelled %q after the bound", got)
	}
	if got := m.feed(""); got != "none" {
		t.Errorf("no feed labelled %q, want none", got)
	}
}
