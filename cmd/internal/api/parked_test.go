package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/store"
)

const testToken = "a-token-of-some-length"

// parkedBus is the API's view of a real bus: a retry sends a message back
// as it is, except one whose payload says "still broken", which stays
// parked as a page that still fails would.
type parkedBus struct{ b *bus.Bus }

func (p parkedBus) ParkedAfter(ctx context.Context, after uint64, limit int) ([]bus.Parked, uint64, error) {
	return p.b.ParkedAfter(ctx, after, limit)
}

func (p parkedBus) RetryParked(ctx context.Context, seq uint64) error {
	return p.b.RetryParked(ctx, seq, func(subject string, data []byte) ([]byte, error) {
		if strings.Contains(string(data), "still broken") {
			return nil, errors.New("the page still cannot be fetched: 500")
		}
		return data, nil
	})
}

// statsOf is the API's view of the stats of a real bus and store.
type statsOf struct {
	b *bus.Bus
	s store.Store
}

func (st statsOf) Stats(ctx context.Context) (Stats, error) {
	streams, err := st.b.Stats(ctx)
	if err != nil {
		return Stats{}, err
	}
	n, err := st.s.Count(ctx)
	if err != nil {
		return Stats{}, err
	}
	hours, err := st.s.ArticlesPerHour(ctx, time.Now().Add(-24*time.Hour))
	if err != nil {
		return Stats{}, err
	}
	return Stats{Time: time.Now().UTC(), Streams: streams, Stored: StoredStats{Articles: n}, Rates: Rates{ArticlesPerHour: hours}}, nil
}

// parkedWorld is an embedded NATS server whose process stage parks every
// raw message until fixed is set, and counts those it takes.
type parkedWorld struct {
	bus   *bus.Bus
	fixed atomic.Bool
	taken atomic.Int64
}

// newParkedWorld publishes the payloads as raw articles and waits until
// all are parked.
func newParkedWorld(t *testing.T, payloads ...string) *parkedWorld {
	t.Helper()
	b, err := bus.Connect(t.Context(), bus.Options{DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w := &parkedWorld{bus: b}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		b.Consume(ctx, bus.ConsumerOptions{Stream: bus.StreamRaw, Consumer: bus.ConsumerProcess, MaxDeliver: 1}, func(ctx context.Context, m bus.Msg) error {
			if !w.fixed.Load() {
				return fault.AsPermanent(fmt.Errorf("cannot read %q", m.Data))
			}
			w.taken.Add(1)
			return nil
		})
	})
	t.Cleanup(func() { cancel(); wg.Wait(); b.Close() })
	for i, p := range payloads {
		if err := b.Publish(t.Context(), bus.RawSubject("town"), fmt.Sprint("item-", i), []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all parked", func() bool {
		_, total, err := b.ParkedAfter(t.Context(), 0, 1)
		return err == nil && total == uint64(len(payloads))
	})
	return w
}

// waitFor polls cond until it holds, or fails the test after 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do sends a request with the token (if any) and decodes the JSON answer.
func do(t *testing.T, srv *httptest.Server, method, path, token string, status int, v any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s %s: %v in %s", method, path, err, body)
	}
}

func TestParked(t *testing.T) {
	w := newParkedWorld(t, "one", "two still broken", "three")
	s := openSQLite(t)
	h := New(s, testToken, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.MountParked(parkedBus{w.bus})
	srv := httptest.NewServer(h)
	defer srv.Close()

	var page parkedAnswer
	do(t, srv, "GET", "/api/v1/parked?limit=2", testToken, 200, &page)
	if len(page.Parked) != 2 || page.Total != 3 || page.Next == "" {
		t.Fatalf("first page: %+v, want 2 of 3 and a next page", page)
	}
	for _, p := range page.Parked {
		if p.Stage != bus.ConsumerProcess || p.Subject != bus.RawSubject("town") || !strings.Contains(p.Error, "cannot read") {
			t.Errorf("parked message %+v", p)
		}
	}
	one, two := page.Parked[0].Seq, page.Parked[1].Seq
	var rest parkedAnswer
	do(t, srv, "GET", page.Next, testToken, 200, &rest)
	if len(rest.Parked) != 1 || rest.Next != "" || rest.Parked[0].Seq <= two {
		t.Fatalf("second page: %+v, want the third message alone", rest)
	}

	w.fixed.Store(true)
	var ok retryAnswer
	do(t, srv, "POST", fmt.Sprintf("/api/v1/parked/%d/retry", one), testToken, 200, &ok)
	if !ok.Retried || ok.Seq != one {
		t.Errorf("retry answered %+v", ok)
	}
	waitFor(t, "the retried message taken", func() bool { return w.taken.Load() == 1 })
	var e apiError
	do(t, srv, "POST", fmt.Sprintf("/api/v1/parked/%d/retry", two), testToken, http.StatusConflict, &e)
	if !strings.Contains(e.Error, "still cannot be fetched") {
		t.Errorf("a retry that failed answered %+v", e)
	}
	do(t, srv, "GET", "/api/v1/parked", testToken, 200, &page)
	if page.Total != 2 || page.Parked[0].Seq != two {
		t.Errorf("after the retries: %+v, want two and three parked", page)
	}
	for _, tt := range []struct {
		method, path string
		status       int
		param        string
	}{
		{"POST", fmt.Sprintf("/api/v1/parked/%d/retry", one), 404, "seq"},
		{"POST", "/api/v1/parked/first/retry", 400, "seq"},
		{"GET", "/api/v1/parked?after=-1", 400, "after"},
		{"GET", "/api/v1/parked?limit=1001", 400, "limit"},
		{"GET", "/api/v1/parked?colour=red", 400, "colour"},
		{"GET", "/api/v1/parked/1/retry", 405, ""},
	} {
		var e apiError
		do(t, srv, tt.method, tt.path, testToken, tt.status, &e)
		if e.Param != tt.param {
			t.Errorf("%s %s: %+v, want it to name %q", tt.method, tt.path, e, tt.param)
		}
	}
	do(t, srv, "GET", "/api/v1/parked", "", 401, &e)
}

// A server without a token changes nothing through the API.
func TestRetryNeedsToken(t *testing.T) {
	w := newParkedWorld(t, "one")
	h := New(openSQLite(t), "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.MountParked(parkedBus{w.bus})
	srv := httptest.NewServer(h)
	defer srv.Close()
	var page parkedAnswer
	do(t, srv, "GET", "/api/v1/parked", "", 200, &page)
	var e apiError
	do(t, srv, "POST", fmt.Sprintf("/api/v1/parked/%d/retry", page.Parked[0].Seq), "", http.StatusForbidden, &e)
	if !strings.Contains(e.Error, "NEWSFLOW_API_TOKEN") {
		t.Errorf("answer %+v does not say how to set a token", e)
	}
	do(t, srv, "GET", "/api/v1/parked", "", 200, &page)
	if page.Total != 1 {
		t.Errorf("%d parked after a refused retry, want 1", page.Total)
	}
}

func TestStats(t *testing.T) {
	w := newParkedWorld(t, "one", "two")
	s := openSQLite(t)
	fixture(t, s)
	h := New(s, "", slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.MountStats(statsOf{w.bus, s})
	srv := httptest.NewServer(h)
	defer srv.Close()
	var st Stats
	do(t, srv, "GET", "/api/v1/stats", "", 200, &st)
	if st.Stored.Articles != 4 {
		t.Errorf("stored articles %d, want 4", st.Stored.Articles)
	}
	streams := map[string]bus.StreamStats{}
	for _, s := range st.Streams {
		streams[s.Name] = s
	}
	raw, parked := streams[bus.StreamRaw], streams[bus.StreamParked]
	if raw.Messages != 2 || parked.Messages != 2 || raw.Last.IsZero() {
		t.Errorf("streams %+v, want 2 raw and 2 parked messages", st.Streams)
	}
	if len(raw.Consumers) != 1 || raw.Consumers[0].Name != bus.ConsumerProcess || raw.Consumers[0].Pending != 0 || raw.Consumers[0].Delivered != 2 {
		t.Errorf("raw consumers %+v, want process with nothing pending", raw.Consumers)
	}
	var e apiError
	do(t, srv, "GET", "/api/v1/stats?x=1", "", 400, &e)
}

// A browser's cross-site request changes nothing, even with the token.
func TestCrossOriginRefused(t *testing.T) {
	w := newParkedWorld(t, "one")
	h := New(openSQLite(t), testToken, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.MountParked(parkedBus{w.bus})
	srv := httptest.NewServer(h)
	defer srv.Close()
	var page parkedAnswer
	do(t, srv, "GET", "/api/v1/parked", testToken, 200, &page)
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/parked/%d/retry", srv.URL, page.Parked[0].Seq), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site retry: status %d, want 403", resp.StatusCode)
	}
	do(t, srv, "GET", "/api/v1/parked", testToken, 200, &page)
	if page.Total != 1 {
		t.Errorf("%d parked after a refused retry, want 1", page.Total)
	}
}
