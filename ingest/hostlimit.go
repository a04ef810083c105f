package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// HostLeases coordinates the requests to each host among every fetcher that
// shares it (the ingest replicas on one NATS): at most HostLimit.MaxInFlight
// requests at once, and HostLimit.Spacing between them. The bus provides it
// on a key-value bucket; without it, the limits hold within one process.
type HostLeases interface {
	// Acquire waits until a request to host may start under lim and takes
	// one of the host's slots; release gives the slot back. While the host
	// has asked to wait (see Defer) it returns a *HostDeferredError at once.
	Acquire(ctx context.Context, host string, lim HostLimit) (release func(), err error)
	// Defer holds every request to host back for d, as after a 429 or 503.
	Defer(ctx context.Context, host string, d time.Duration) error
}

// HostLimit is what a request asks of HostLeases.
type HostLimit struct {
	// MaxInFlight is how many requests to the host may run at once.
	MaxInFlight int
	// Spacing is the least time from the start of one request to the start
	// of the next, and from the end of one to the start of the next.
	Spacing time.Duration
	// Hold is how long a slot lasts unless renewed: the holder renews it
	// every Hold/3 while its request runs, so the slot of a fetcher that
	// died is free again Hold after its last renewal.
	Hold time.Duration
}

// HostDeferredError is the error of a request not sent because its host
// asked to wait (a 429 or 503, with or without Retry-After). It is
// temporary.
type HostDeferredError struct {
	Host string
	// Wait is how long the host still asked to wait.
	Wait time.Duration
}

func (e *HostDeferredError) Error() string {
	return fmt.Sprintf("host %s asked to wait: no request for another %s", e.Host, e.Wait.Round(time.Second))
}

// Temporary reports true: the host will be asked again later.
func (e *HostDeferredError) Temporary() bool { return true }

// errNotSent marks the errors of requests that the per-host limits kept
// from being sent at all.
var errNotSent = errors.New("request not sent")

// errSharedLimits marks the errors of requests not sent because the limits
// shared with the other replicas could not be asked: the bus's failure,
// not the host's.
var errSharedLimits = errors.New("the host limits shared by the replicas cannot be asked")

// hostLimiter holds the requests to each host to the limits: PerHost in
// flight, a spacing (the configured one, or the host's Crawl-delay) and the
// host's deferral after a 429 or 503. Its local part (a semaphore and a
// rate.Limiter per host) holds within this process; shared, when set,
// holds across every replica and is asked only once the local part lets a
// request go.
type hostLimiter struct {
	n      int
	hold   time.Duration
	shared HostLeases // nil: this process only

	mu      sync.Mutex
	hosts   map[string]*hostSlots
	sweepAt int
}

type hostSlots struct {
	sem   chan struct{}
	users int
	lim   *rate.Limiter // spacing between starts
	// notBefore is when the next request may start: Spacing after the end
	// of the last one.
	notBefore time.Time
	// deferred is when the host's wait after a 429 or 503 ends.
	deferred time.Time
}

// idle reports whether s holds nothing worth keeping at now.
func (s *hostSlots) idle(now time.Time) bool {
	return s.users == 0 && !s.notBefore.After(now) && !s.deferred.After(now) && s.lim.TokensAt(now) >= 1
}

func newHostLimiter(n int, hold time.Duration, shared HostLeases) *hostLimiter {
	return &hostLimiter{n: n, hold: hold, shared: shared, hosts: map[string]*hostSlots{}, sweepAt: 1024}
}

// acquire waits until a request to host may start with at least spacing
// since the last one, and returns the function to call once it ended. The
// error, when no request may be sent, wraps errNotSent and ctx's error, a
// *HostDeferredError, or the shared leases' error.
func (l *hostLimiter) acquire(ctx context.Context, host string, spacing time.Duration) (func(), error) {
	host = strings.ToLower(host)
	notSent := func(err error) error { return fmt.Errorf("%w: %w", errNotSent, err) }
	l.mu.Lock()
	s := l.hosts[host]
	if s == nil {
		l.sweepLocked()
		s = &hostSlots{sem: make(chan struct{}, l.n), lim: rate.NewLimiter(rate.Inf, 1)}
		l.hosts[host] = s
	}
	s.users++
	if every := rate.Every(spacing); spacing > 0 && s.lim.Limit() != every {
		s.lim.SetLimit(every)
	} else if spacing <= 0 {
		s.lim.SetLimit(rate.Inf)
	}
	l.mu.Unlock()
	done := func() {
		l.mu.Lock()
		s.users--
		if s.idle(time.Now()) {
			delete(l.hosts, host)
		}
		l.mu.Unlock()
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, notSent(ctx.Err())
	}
	free := func() { <-s.sem; done() }
	// The host's turn: its deferral ends the wait at once; otherwise
	// Spacing after the end of the last request, and (the rate limiter)
	// after the start of the last one, looked at again after that wait.
	turn := func() error {
		for {
			l.mu.Lock()
			now := time.Now()
			deferred, nb := s.deferred, s.notBefore
			l.mu.Unlock()
			if deferred.After(now) {
				return &HostDeferredError{Host: host, Wait: deferred.Sub(now)}
			}
			if !nb.After(now) {
				return nil
			}
			if err := sleep(ctx, nb.Sub(now)); err != nil {
				return err
			}
		}
	}
	err := turn()
	if err == nil {
		err = s.lim.Wait(ctx)
	}
	if err == nil {
		err = turn()
	}
	if err != nil {
		free()
		return nil, notSent(err)
	}
	release := func() {}
	if l.shared != nil {
		r, err := l.shared.Acquire(ctx, host, HostLimit{MaxInFlight: l.n, Spacing: spacing, Hold: l.hold})
		if err != nil {
			free()
			var hd *HostDeferredError
			if !errors.As(err, &hd) && ctx.Err() == nil {
				err = fmt.Errorf("%w: %w", errSharedLimits, err)
			}
			return nil, notSent(err)
		}
		release = r
	}
	return func() {
		release()
		if spacing > 0 {
			l.mu.Lock()
			s.notBefore = time.Now().Add(spacing)
			l.mu.Unlock()
		}
		free()
	}, nil
}

// deferHost holds the requests to host back for d, here and, through the
// shared leases, in every replica.
func (l *hostLimiter) deferHost(ctx context.Context, host string, d time.Duration) error {
	host = strings.ToLower(host)
	until := time.Now().Add(d)
	l.mu.Lock()
	s := l.hosts[host]
	if s == nil {
		l.sweepLocked()
		s = &hostSlots{sem: make(chan struct{}, l.n), lim: rate.NewLimiter(rate.Inf, 1)}
		l.hosts[host] = s
	}
	if until.After(s.deferred) {
		s.deferred = until
	}
	l.mu.Unlock()
	if l.shared != nil {
		return l.shared.Defer(ctx, host, d)
	}
	return nil
}

// sweepLocked forgets the idle hosts once there are many.
func (l *hostLimiter) sweepLocked() {
	if len(l.hosts) < l.sweepAt {
		return
	}
	now := time.Now()
	for h, s := range l.hosts {
		if s.idle(now) {
			delete(l.hosts, h)
		}
	}
	l.sweepAt = max(1024, 2*len(l.hosts))
}

// sleep waits for d or ctx, and returns ctx's error if ctx ended first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
