package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
)

// maxFeedLabels bounds the feed label of the per-feed counters: the first
// maxFeedLabels feeds a process counts get a series each, any later one is
// counted under feed="other". A feed's label is its token, so the bound
// holds however many feeds are added while the process runs.
const maxFeedLabels = 500

// metrics are the Prometheus metrics of one process, on a registry of its
// own: the stages' latencies and counters, the consumers' backlog, build
// information, and the Go runtime's and the process's metrics.
type metrics struct {
	reg *prometheus.Registry

	fetch       *prometheus.HistogramVec // kind: feed or page
	extract     prometheus.Histogram
	store       prometheus.Histogram
	feedToStore prometheus.Histogram
	processed   *prometheus.CounterVec // feed, outcome
	stored      *prometheus.CounterVec // feed

	mu    sync.Mutex
	feeds map[string]bool // the feeds with a label of their own
}

// newMetrics registers the metrics of p's roles. The stages' counters are
// read from p when scraped.
func newMetrics(p *pipeline) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), feeds: map[string]bool{}}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
		newPipelineCollector(p),
	)
	// Latency buckets: 10ms to 20s for a fetch, 1ms to 8s for an
	// extraction or a store transaction, 100ms to 7h from fetch to store
	// (a backlog can hold a page for hours).
	m.fetch = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "newsflow_fetch_duration_seconds",
		Help:    "Time to fetch a feed or an article page, to the last byte of the body or the error.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{"kind"})
	m.extract = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "newsflow_extraction_duration_seconds",
		Help:    "Time to extract the record of one fetched page.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	m.processed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "newsflow_feed_pages_processed_total",
		Help: fmt.Sprintf("Raw articles the processor handled, by feed token (at most %d feeds, then \"other\") and outcome (ok or error).", maxFeedLabels),
	}, []string{"feed", "outcome"})
	m.store = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "newsflow_store_duration_seconds",
		Help:    "Time to store one batch of records in one transaction.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
	})
	m.feedToStore = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "newsflow_feed_to_store_seconds",
		Help:    "Time from the fetch of an article's page to its record being stored.",
		Buckets: prometheus.ExponentialBuckets(0.1, 4, 10),
	})
	m.stored = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "newsflow_feed_records_stored_total",
		Help: fmt.Sprintf("Records the store handled, by feed token (at most %d feeds, then \"other\").", maxFeedLabels),
	}, []string{"feed"})
	for _, role := range p.cfg.roles {
		switch role {
		case "ingest":
			m.reg.MustRegister(m.fetch)
		case "process":
			m.reg.MustRegister(m.extract, m.processed)
		case "store":
			m.reg.MustRegister(m.store, m.feedToStore, m.stored)
		}
	}
	return m
}

// handler serves the metrics in Prometheus's exposition formats.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observeFetch is the ingest client's Observe hook.
func (m *metrics) observeFetch(kind string, d time.Duration) {
	m.fetch.WithLabelValues(kind).Observe(d.Seconds())
}

// feed is the feed label of the feed with token feed.
func (m *metrics) feed(feed string) string {
	if feed == "" {
		return "none"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.feeds[feed] {
		if len(m.feeds) >= maxFeedLabels {
			return "other"
		}
		m.feeds[feed] = true
	}
	return feed
}

// buildInfo is newsflow_build_info: 1, with the version and VCS revision
// the binary was built from and its Go version as labels.
func buildInfo() prometheus.Collector {
	version, revision := "(devel)", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "newsflow_build_info",
		Help:        "Always 1; the labels say which newsflow build this is.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "goversion": runtime.Version()},
	}, func() float64 { return 1 })
}

// pipelineCollector reads the stages' counters and the consumers' backlog
// when scraped.
type pipelineCollector struct {
	p       *pipeline
	poller  []pollerCounter
	stored  *prometheus.Desc
	pending *prometheus.Desc
	acks    *prometheus.Desc
	parked  *prometheus.Desc
}

// pollerCounter is a counter of ingest.Stats.
type pollerCounter struct {
	desc  *prometheus.Desc
	value func(ingest.Stats) int64
}

// collectTimeout bounds the questions a scrape asks NATS.
const collectTimeout = 2 * time.Second

func newPipelineCollector(p *pipeline) *pipelineCollector {
	counter := func(name, help string, value func(ingest.Stats) int64) pollerCounter {
		return pollerCounter{prometheus.NewDesc(name, help, nil, nil), value}
	}
	return &pipelineCollector{
		p: p,
		poller: []pollerCounter{
			counter("newsflow_feeds_polled_total", "Feed fetches answered with 200 or 304.", func(s ingest.Stats) int64 { return s.FeedsPolled }),
			counter("newsflow_feeds_not_modified_total", "Feed fetches answered with 304.", func(s ingest.Stats) int64 { return s.FeedsNotModified }),
			counter("newsflow_feed_errors_total", "Feed polls that failed.", func(s ingest.Stats) int64 { return s.FeedErrors }),
			counter("newsflow_claims_lost_total", "Due feeds another fetcher claimed first.", func(s ingest.Stats) int64 { return s.ClaimsLost }),
			counter("newsflow_items_seen_total", "Feed items skipped because they were published before.", func(s ingest.Stats) int64 { return s.ItemsSeen }),
			counter("newsflow_items_published_total", "Raw articles published.", func(s ingest.Stats) int64 { return s.ItemsPublished }),
			counter("newsflow_pages_fetched_total", "Article pages fetched with a 2xx status.", func(s ingest.Stats) int64 { return s.PagesFetched }),
			counter("newsflow_page_errors_total", "Article page fetches that failed.", func(s ingest.Stats) int64 { return s.PageErrors }),
			counter("newsflow_pages_given_up_total", "Items published with a page that failed for good.", func(s ingest.Stats) int64 { return s.PagesGivenUp }),
			counter("newsflow_pages_disallowed_total", "Article pages robots.txt refused (published with that error, parked).", func(s ingest.Stats) int64 { return s.PagesDisallowed }),
			counter("newsflow_publish_errors_total", "Failed publishes of raw articles.", func(s ingest.Stats) int64 { return s.PublishErrors }),
			counter("newsflow_state_errors_total", "Failures of the feed-state and seen-item stores.", func(s ingest.Stats) int64 { return s.StateErrors }),
		},
		stored:  prometheus.NewDesc("newsflow_articles_stored_total", "Records the store handled, by outcome (inserted, updated, unchanged).", []string{"outcome"}, nil),
		pending: prometheus.NewDesc("newsflow_consumer_pending", "Messages not yet delivered to a stage's consumer.", []string{"consumer"}, nil),
		acks:    prometheus.NewDesc("newsflow_consumer_ack_pending", "Messages delivered to a stage's consumer and not yet acknowledged.", []string{"consumer"}, nil),
		parked:  prometheus.NewDesc("newsflow_parked", "Messages parked with their error.", nil, nil),
	}
}

func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	if c.p.poller != nil {
		for _, pc := range c.poller {
			ch <- pc.desc
		}
	}
	if c.p.db != nil {
		ch <- c.stored
	}
	ch <- c.pending
	ch <- c.acks
	ch <- c.parked
}

func (c *pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.p
	if p.poller != nil {
		s := p.poller.Stats()
		for _, pc := range c.poller {
			ch <- prometheus.MustNewConstMetric(pc.desc, prometheus.CounterValue, float64(pc.value(s)))
		}
	}
	if p.db != nil {
		s := p.storedStats()
		ch <- prometheus.MustNewConstMetric(c.stored, prometheus.CounterValue, float64(s.Inserted), "inserted")
		ch <- prometheus.MustNewConstMetric(c.stored, prometheus.CounterValue, float64(s.Updated), "updated")
		ch <- prometheus.MustNewConstMetric(c.stored, prometheus.CounterValue, float64(s.Unchanged), "unchanged")
	}
	// The backlog is asked of NATS; while it is unreachable these series
	// are left out rather than reported as zero.
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	js := p.bus.JetStream()
	for _, sc := range [][2]string{{bus.StreamRaw, bus.ConsumerProcess}, {bus.StreamArticles, bus.ConsumerStore}} {
		cons, err := js.Consumer(ctx, sc[0], sc[1])
		if err != nil {
			continue
		}
		if info, err := cons.Info(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(info.NumPending), sc[1])
			ch <- prometheus.MustNewConstMetric(c.acks, prometheus.GaugeValue, float64(info.NumAckPending), sc[1])
		}
	}
	if s, err := js.Stream(ctx, bus.StreamParked); err == nil {
		if info, err := s.Info(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(c.parked, prometheus.GaugeValue, float64(info.State.Msgs))
		}
	}
}
