package ingest

import (
	"context"
	"strings"
	"sync"
)

// hostLimiter bounds the requests in flight to each host.
type hostLimiter struct {
	n     int
	mu    sync.Mutex
	hosts map[string]*hostSlots
}

type hostSlots struct {
	sem   chan struct{}
	users int
}

func newHostLimiter(n int) *hostLimiter {
	return &hostLimiter{n: n, hosts: map[string]*hostSlots{}}
}

// acquire waits for a free slot for host and returns the function that
// frees it, or ctx's error.
func (l *hostLimiter) acquire(ctx context.Context, host string) (func(), error) {
	host = strings.ToLower(host)
	l.mu.Lock()
	s := l.hosts[host]
	if s == nil {
		s = &hostSlots{sem: make(chan struct{}, l.n)}
		l.hosts[host] = s
	}
	s.users++
	l.mu.Unlock()
	done := func() {
		l.mu.Lock()
		s.users--
		if s.users == 0 {
			delete(l.hosts, host)
		}
		l.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
