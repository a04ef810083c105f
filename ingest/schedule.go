package ingest

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Run polls the feeds as they fall due until ctx is done. It then waits for
// the polls in flight to stop (they see ctx too) and returns nil.
func (p *Poller) Run(ctx context.Context) error {
	p.log.Info("polling feeds", "feeds", len(p.cfg.Feeds), "interval", p.cfg.Interval, "replica", p.cfg.ReplicaID, "registry", p.cfg.Registry != nil)
	if p.cfg.Registry != nil {
		var watching sync.WaitGroup
		defer watching.Wait()
		watching.Go(func() { p.watchRegistry(ctx) })
	}
	p.schedule(ctx, false)
	return nil
}

// PollDue polls every feed that is due now, once, and returns when they are
// done: one round of Run, for one-shot use and tests. It returns ctx's
// error if ctx ended.
func (p *Poller) PollDue(ctx context.Context) error {
	p.schedule(ctx, true)
	return ctx.Err()
}

// schedule starts each feed's round when it falls due, as a slot is free,
// until ctx ends (or, once, when nothing more is due now).
func (p *Poller) schedule(ctx context.Context, once bool) {
	pages := newPagePool(p.cfg.PageWorkers, p.cfg.PerHost)
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		pages.close()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, busy := p.dispatch(ctx, pages, &wg)
		if once && !busy {
			return // nothing under way, nothing more due now
		}
		if once || next.IsZero() {
			next = p.cfg.Now().Add(time.Hour) // until woken
		}
		timer.Reset(max(next.Sub(p.cfg.Now()), 0))
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-timer.C:
		}
	}
}

// dispatch starts a round for each feed due now, earliest first, while
// fewer than MaxInFlight are under way. It returns when the next feed
// falls due (zero if none is waiting; feeds under way come back when
// their round ends), and whether rounds are under way or due feeds wait.
func (p *Poller) dispatch(ctx context.Context, pages *pagePool, wg *sync.WaitGroup) (next time.Time, busy bool) {
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if ctx.Err() != nil {
		return time.Time{}, false
	}
	for p.queue.Len() > 0 {
		e := p.queue[0]
		if look, ok := p.nextLook[e.token]; !ok || !look.Equal(e.at) {
			heap.Pop(&p.queue) // stale: looked at again since
			continue
		}
		if e.at.After(now) {
			return e.at, p.running > 0
		}
		if p.storeDown.After(now) {
			return p.storeDown, p.running > 0
		}
		if p.running >= p.cfg.MaxInFlight {
			return time.Time{}, true
		}
		heap.Pop(&p.queue)
		delete(p.nextLook, e.token)
		p.running++
		p.inRound[e.token] = true
		f := p.feeds[e.token]
		wg.Go(func() { p.poll(ctx, f, pages) })
	}
	return time.Time{}, p.running > 0
}

// lookAt records when to look at the feed's state again: at due, but no
// later than an Interval from now, so that changes made elsewhere are seen.
func (p *Poller) lookAt(token string, due time.Time) {
	p.mu.Lock()
	p.lookAtLocked(token, due)
	p.mu.Unlock()
	p.signal()
}

func (p *Poller) lookAtLocked(token string, due time.Time) {
	if _, ok := p.feeds[token]; !ok {
		return // removed or paused since
	}
	if limit := p.cfg.Now().Add(p.cfg.Interval); due.After(limit) {
		due = limit
	}
	p.nextLook[token] = due
	heap.Push(&p.queue, dueEntry{at: due, token: token})
}

// signal wakes the scheduler.
func (p *Poller) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// dueEntry is a feed's place in the dueQueue.
type dueEntry struct {
	at    time.Time
	token string
}

// dueQueue is a min-heap of feeds by the time to look at them. An entry
// whose time is no longer the feed's (see Poller.nextLook) is stale and
// skipped.
type dueQueue []dueEntry

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q dueQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(dueEntry)) }
func (q *dueQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}
