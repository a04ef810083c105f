package ingest

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHostLimiter(t *testing.T) {
	l := newHostLimiter(2)
	ctx := context.Background()
	r1, err1 := l.acquire(ctx, "a.example.org")
	r2, err2 := l.acquire(ctx, "A.example.org") // same host, other case
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	// Another host is not held up.
	rb, err := l.acquire(ctx, "b.example.org")
	if err != nil {
		t.Fatal(err)
	}
	rb()

	// A third request to a.example.org waits for a slot.
	got := make(chan func(), 1)
	go func() {
		r, err := l.acquire(ctx, "a.example.org")
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
	ra, _ := l.acquire(ctx, "c.example.org")
	rc, _ := l.acquire(ctx, "c.example.org")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.acquire(cctx, "c.example.org"); !errors.Is(err, context.Canceled) {
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
