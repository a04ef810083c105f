package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/api"
	"github.com/newsflow/newsflow/cmd/internal/bus"
)

// serveStatus serves the probes and /metrics on addr until ctx ends:
//   - /livez answers 200 while the process serves at all (a liveness probe
//     must not restart a worker because NATS or the database is down);
//   - /readyz answers 200 when the NATS connection is up, the store (if this
//     process runs the store role) answers, and the stages are not draining
//     (stages ended), 503 naming what is wrong otherwise;
//   - /healthz answers 200 while the NATS connection is up (503 otherwise);
//   - /metrics gives the stages' counters and the consumers' backlog in
//     Prometheus's text format;
//   - /api/v1/ is the article API (see mountAPI).
func (p *pipeline) serveStatus(ctx, stages context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--http %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !p.bus.Conn().IsConnected() {
			http.Error(w, "nats: not connected", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := p.ready(r.Context(), stages); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		p.writeMetrics(r.Context(), w)
	})
	if err := p.mountAPI(mux, addr); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	p.log.Info("status server listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("--http %s: %w", addr, err)
	}
	return nil
}

// ready says why this process should not be sent work, or nil.
func (p *pipeline) ready(ctx context.Context, stages context.Context) error {
	if stages.Err() != nil {
		return errors.New("draining")
	}
	if !p.bus.Conn().IsConnected() {
		return errors.New("nats: not connected")
	}
	if p.db != nil {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := p.db.Ping(ctx); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// mountAPI serves the article API (/api/v1/) on mux when this process has
// a store: on a loopback address, or on any other with an API token.
func (p *pipeline) mountAPI(mux *http.ServeMux, addr string) error {
	articles, ok := p.db.(api.Articles)
	if !ok {
		return nil
	}
	token, err := api.TokenFromEnv(os.LookupEnv)
	if err != nil {
		return err
	}
	if err := api.CheckAddr(addr, token); err != nil {
		p.log.Warn("the article API is off", "err", err)
		return nil
	}
	api.New(articles, token, p.log).Register(mux)
	return nil
}

func (p *pipeline) writeMetrics(ctx context.Context, w io.Writer) {
	metric := func(name, help string, v any, labels string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s%s %v\n", name, help, name, name, labels, v)
	}
	if p.poller != nil {
		s := p.poller.Stats()
		metric("newsflow_feeds_polled_total", "Feed fetches answered with 200 or 304.", s.FeedsPolled, "")
		metric("newsflow_feeds_not_modified_total", "Feed fetches answered with 304.", s.FeedsNotModified, "")
		metric("newsflow_feed_errors_total", "Feed polls that failed.", s.FeedErrors, "")
		metric("newsflow_items_published_total", "Raw articles published.", s.ItemsPublished, "")
		metric("newsflow_page_errors_total", "Article page fetches that failed.", s.PageErrors, "")
		metric("newsflow_pages_disallowed_total", "Article pages robots.txt refused (published with that error, parked).", s.PagesDisallowed, "")
		metric("newsflow_publish_errors_total", "Failed publishes of raw articles.", s.PublishErrors, "")
	}
	if p.db != nil {
		s := p.storedStats()
		fmt.Fprintf(w, "# HELP newsflow_articles_stored_total Records the store handled, by outcome.\n# TYPE newsflow_articles_stored_total counter\n")
		fmt.Fprintf(w, "newsflow_articles_stored_total{outcome=\"inserted\"} %d\n", s.Inserted)
		fmt.Fprintf(w, "newsflow_articles_stored_total{outcome=\"updated\"} %d\n", s.Updated)
		fmt.Fprintf(w, "newsflow_articles_stored_total{outcome=\"unchanged\"} %d\n", s.Unchanged)
	}
	fmt.Fprintf(w, "# HELP newsflow_consumer_pending Messages not yet delivered to a stage.\n# TYPE newsflow_consumer_pending gauge\n")
	for _, c := range [][2]string{{bus.StreamRaw, bus.ConsumerProcess}, {bus.StreamArticles, bus.ConsumerStore}} {
		cons, err := p.bus.JetStream().Consumer(ctx, c[0], c[1])
		if err != nil {
			continue
		}
		if info, err := cons.Info(ctx); err == nil {
			fmt.Fprintf(w, "newsflow_consumer_pending{consumer=%q} %d\n", c[1], info.NumPending)
			fmt.Fprintf(w, "newsflow_consumer_ack_pending{consumer=%q} %d\n", c[1], info.NumAckPending)
		}
	}
	if s, err := p.bus.JetStream().Stream(ctx, bus.StreamParked); err == nil {
		if info, err := s.Info(ctx); err == nil {
			fmt.Fprintf(w, "# HELP newsflow_parked Messages parked with their error.\n# TYPE newsflow_parked gauge\nnewsflow_parked %d\n", info.State.Msgs)
		}
	}
}
