package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// serveStatus serves the probes and /metrics on addr until ctx ends:
//   - /livez answers 200 while the process serves at all (a liveness probe
//     must not restart a worker because NATS or the database is down);
//   - /readyz answers 200 when the NATS connection is up, the store (if this
//     process runs the store role) answers, and the stages are not draining
//     (stages ended), 503 naming what is wrong otherwise;
//   - /healthz answers 200 while the NATS connection is up (503 otherwise);
//   - /metrics gives the process's metrics (see newMetrics) in
//     Prometheus's formats;
//   - /api/v1/ is the API and / the web console (see mountAPI).
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
	mux.Handle("GET /metrics", p.metrics.handler())
	if err := p.mountAPI(ctx, mux, addr); err != nil {
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
