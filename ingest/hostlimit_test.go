package ingest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestHostLimiter(t *testing.T) {
	l := newHostLimiter(2, time.Minute, nil)
	ctx := context.Background()
	r1, err1 := l.acquire(ctx, "a.example.org", 0)
	r2, err2 := l.acquire(ctx, "A.example.org", 0) // same host, other case
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// Another host is not held up.
	rb, err := l.acquire(ctx, "b.example.org", 0)
	if err != nil {
		t.Fatal(err)
	}
	rb()

	// A third request to a.example.org waits for a slot.
	got := make(chan func(), 1)
	go func() {
		r, err := l.acquire(ctx, "a.example.org", 0)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	select {
	case <-got:
		t.Fatal("third request to one host did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	r1()
	r3 := <-got
	r2()
	r3()

	// A waiting request gives up with its context.
	ra, _ := l.acquire(ctx, "c.example.org", 0)
	rc, _ := l.acquire(ctx, "c.example.org", 0)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.acquire(cctx, "c.example.org", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
	ra()
	rc()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.hosts) != 0 {
		t.Errorf("idle hosts kept: %v", l.hosts)
	}
}

func TestHostLimiterSpacing(t *testing.T) {
	const spacing = 40 * time.Millisecond
	l := newHostLimiter(2, time.Minute, nil)
	ctx := context.Background()
	var ended time.Time
	for i := range 3 {
		r, err := l.acquire(ctx, "quay.example.org", spacing)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if i > 0 && now.Sub(ended) < spacing {
			t.Errorf("request %d started %s after the end of the one before, want at least %s", i, now.Sub(ended), spacing)
		}
		ended = time.Now()
		r()
	}
	// Two at once (PerHost 2): the second still starts spacing after the first.
	asked := time.Now()
	r1, _ := l.acquire(ctx, "ferry.example.org", spacing)
	r2, err := l.acquire(ctx, "ferry.example.org", spacing)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(asked); d < spacing {
		t.Errorf("second request in flight started %s after the first was asked for, want at least %s", d, spacing)
	}
	r1()
	r2()
}

func TestHostLimiterDefer(t *testing.T) {
	l := newHostLimiter(2, time.Minute, nil)
	ctx := context.Background()
	if err := l.deferHost(ctx, "Slow.example.org", time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err := l.acquire(ctx, "slow.example.org", 0)
	var hd *HostDeferredError
	if !errors.As(err, &hd) || !errors.Is(err, errNotSent) || hd.Wait < 59*time.Minute {
		t.Fatalf("acquire on a deferred host: %v, want a HostDeferredError of about an hour", err)
	}
	if !strings.Contains(err.Error(), "slow.example.org asked to wait") {
		t.Errorf("error %q does not name the host", err)
	}
	r, err := l.acquire(ctx, "other.example.org", 0)
	if err != nil {
		t.Fatalf("another host held up: %v", err)
	}
	r()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.hosts["slow.example.org"]; !ok {
		t.Error("a deferred host was forgotten")
	}
}
