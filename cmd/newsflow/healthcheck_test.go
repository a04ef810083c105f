package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
)

func TestReadyURL(t *testing.T) {
	for _, tc := range []struct{ addr, want, err string }{
		{":8080", "http://127.0.0.1:8080/readyz", ""},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/readyz", ""},
		{"[::]:8080", "http://127.0.0.1:8080/readyz", ""},
		{"10.1.2.3:8080", "http://10.1.2.3:8080/readyz", ""},
		{"[fd00::1]:8080", "http://[fd00::1]:8080/readyz", ""},
		{"", "", "NEWSFLOW_HTTP"},
		{"8080", "http://127.0.0.1:8080/readyz", ""},
		{"localhost", "", "$NEWSFLOW_HTTP: \"localhost\""},
	} {
		got, err := readyURL(tc.addr)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("readyURL(%q) = %q, %v; want %q, error naming %q", tc.addr, got, err, tc.want, tc.err)
		}
	}
}

// The status server's probes on a running pipeline, and the healthcheck
// command asking them; /readyz says "draining" once the stages stop.
func TestProbesAndHealthcheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := testConfig("", t.TempDir())
	cfg.roles = []string{"process", "store"}
	cfg.httpAddr = addr
	r := startPipeline(t, cfg)
	defer r.stop(t)

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	eventually(t, "/readyz answering 200", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })
	eventually(t, "the consumers", func() bool {
		return consumerIdle(t, r.bus, bus.StreamRaw, bus.ConsumerProcess) && consumerIdle(t, r.bus, bus.StreamArticles, bus.ConsumerStore)
	})
	for _, path := range []string{"/livez", "/healthz"} {
		if code, body := get(path); code != http.StatusOK || body != "ok" {
			t.Errorf("GET %s = %d %q", path, code, body)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"healthcheck", "--url", "http://" + addr + "/readyz"}, &out, &bytes.Buffer{}); err != nil || out.String() != "ok\n" {
		t.Errorf("healthcheck = %v, printed %q", err, out.String())
	}
	t.Setenv("NEWSFLOW_HTTP", addr)
	if err := run(t.Context(), []string{"healthcheck"}, io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck from $NEWSFLOW_HTTP: %v", err)
	}

	// Stages stopped: not ready, still alive.
	stopped, cancel := context.WithCancel(t.Context())
	cancel()
	if err := r.ready(t.Context(), stopped); err == nil || err.Error() != "draining" {
		t.Errorf("ready with the stages stopped = %v, want draining", err)
	}
}

func TestHealthcheckFailures(t *testing.T) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nats: not connected", http.StatusServiceUnavailable)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/readyz"
	closed.Close()
	t.Setenv("NEWSFLOW_HTTP", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", "http://" + ln.Addr().String() + "/readyz"}, "503 Service Unavailable: nats: not connected"},
		{[]string{"--url", closedURL}, "connection refused"},
		{nil, "set $NEWSFLOW_HTTP"},
		{[]string{"--timeout", "0s", "--url", closedURL}, "--timeout"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := run(ctx, append([]string{"healthcheck"}, tc.args...), io.Discard, io.Discard)
		cancel()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("healthcheck %v = %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}

// While NATS is down, /livez still answers 200, so that a liveness probe
// does not restart every pod; /readyz answers 503 naming NATS, /metrics
// still answers, and all is ready again once NATS is back.
func TestLivezWithNATSDown(t *testing.T) {
	port, natsDir := freePort(t), t.TempDir()
	srv := startJetStream(t, port, natsDir)
	cfg := testConfig("", t.TempDir())
	cfg.natsURL = srv.ClientURL()
	cfg.roles = []string{"process"}
	cfg.httpAddr = loopbackAddr(t)
	r := startPipeline(t, cfg)
	defer r.stop(t)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + cfg.httpAddr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	eventually(t, "/readyz answering 200", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })

	srv.Shutdown()
	srv.WaitForShutdown()
	eventually(t, "/readyz answering 503 for NATS", func() bool {
		code, body := get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "nats")
	})
	if code, body := get("/livez"); code != http.StatusOK || body != "ok" {
		t.Errorf("/livez with NATS down = %d %q, want 200 ok", code, body)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, "newsflow_build_info") {
		t.Errorf("/metrics with NATS down = %d:\n%s", code, body)
	}

	startJetStream(t, port, natsDir)
	eventually(t, "/readyz answering 200 again", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })
}
