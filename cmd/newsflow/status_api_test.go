package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The status server mounts the article API on a loopback address; on
// another it refuses to start without a token, and with one asks every
// request for it, whatever the method.
func TestStatusMountsAPI(t *testing.T) {
	cfg := testConfig("", t.TempDir())
	cfg.roles = []string{"store"}
	p, err := newPipeline(t.Context(), cfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	status := func(method, addr string) int {
		t.Helper()
		mux := http.NewServeMux()
		if err := p.mountAPI(t.Context(), mux, addr); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, "/api/v1/articles", nil))
		return rec.Code
	}
	if got := status("GET", "127.0.0.1:8080"); got != http.StatusOK {
		t.Errorf("loopback: status %d, want 200", got)
	}
	if err := p.mountAPI(t.Context(), http.NewServeMux(), ":8080"); err == nil || !strings.Contains(err.Error(), "NEWSFLOW_API_TOKEN") {
		t.Errorf("all interfaces without a token: %v, want an error naming $NEWSFLOW_API_TOKEN", err)
	}
	p.cfg.apiToken = "a-token-of-some-length"
	for _, method := range []string{"GET", "POST", "DELETE"} {
		if got := status(method, ":8080"); got != http.StatusUnauthorized {
			t.Errorf("all interfaces with a token, %s without: status %d, want 401", method, got)
		}
		if got := status(method, "127.0.0.1:8080"); got != http.StatusUnauthorized {
			t.Errorf("loopback with a token, %s without: status %d, want 401", method, got)
		}
	}
}
