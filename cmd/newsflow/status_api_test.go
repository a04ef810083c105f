package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The status server mounts the article API on a loopback address, on
// another only with a token, and then asks for it.
func TestStatusMountsAPI(t *testing.T) {
	cfg := testConfig("", t.TempDir())
	cfg.roles = []string{"store"}
	p, err := newPipeline(t.Context(), cfg, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	status := func(addr string) int {
		t.Helper()
		mux := http.NewServeMux()
		if err := p.mountAPI(t.Context(), mux, addr); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/articles", nil))
		return rec.Code
	}
	if got := status("127.0.0.1:8080"); got != http.StatusOK {
		t.Errorf("loopback: status %d, want 200", got)
	}
	if got := status(":8080"); got != http.StatusNotFound {
		t.Errorf("all interfaces without a token: status %d, want 404 (no API)", got)
	}
	t.Setenv("NEWSFLOW_API_TOKEN", "a-token-of-some-length")
	if got := status(":8080"); got != http.StatusUnauthorized {
		t.Errorf("all interfaces with a token, request without: status %d, want 401", got)
	}
	t.Setenv("NEWSFLOW_API_TOKEN", "short")
	if err := p.mountAPI(t.Context(), http.NewServeMux(), ":8080"); err == nil {
		t.Error("a short token was accepted")
	}
}
