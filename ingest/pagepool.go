package ingest

import (
	"strings"
	"sync"
)

// pagePool runs article-page jobs on a fixed number of workers, queued per
// host: at most perHost jobs of one host run at once, and hosts take turns,
// so a slow host holds at most perHost workers while the others serve the
// rest. A job is a function that fetches one page and hands on what came;
// it holds the page's body only while it runs.
type pagePool struct {
	perHost int

	mu     sync.Mutex
	cond   *sync.Cond
	hosts  map[string]*hostQueue
	ready  []string // hosts with a job waiting and a free slot, in turn
	closed bool
	wg     sync.WaitGroup
}

type hostQueue struct {
	jobs    []func()
	active  int
	inReady bool
}

// newPagePool starts workers workers.
func newPagePool(workers, perHost int) *pagePool {
	q := &pagePool{perHost: perHost, hosts: map[string]*hostQueue{}}
	q.cond = sync.NewCond(&q.mu)
	for range workers {
		q.wg.Go(q.work)
	}
	return q
}

// submit queues job behind the other jobs of host.
func (q *pagePool) submit(host string, job func()) {
	host = strings.ToLower(host)
	q.mu.Lock()
	defer q.mu.Unlock()
	h := q.hosts[host]
	if h == nil {
		h = &hostQueue{}
		q.hosts[host] = h
	}
	h.jobs = append(h.jobs, job)
	q.markReady(host, h)
}

// markReady puts host in the turn if it has a job and a free slot.
func (q *pagePool) markReady(host string, h *hostQueue) {
	if !h.inReady && len(h.jobs) > 0 && h.active < q.perHost {
		h.inReady = true
		q.ready = append(q.ready, host)
		q.cond.Signal()
	}
}

// next waits for a job whose host has a free slot.
func (q *pagePool) next() (string, func(), bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 {
		if q.closed {
			return "", nil, false
		}
		q.cond.Wait()
	}
	host := q.ready[0]
	q.ready = q.ready[1:]
	h := q.hosts[host]
	h.inReady = false
	job := h.jobs[0]
	h.jobs[0] = nil
	h.jobs = h.jobs[1:]
	h.active++
	q.markReady(host, h) // to the back of the turn
	return host, job, true
}

func (q *pagePool) done(host string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	h := q.hosts[host]
	h.active--
	if h.active == 0 && len(h.jobs) == 0 {
		delete(q.hosts, host)
		return
	}
	q.markReady(host, h)
}

func (q *pagePool) work() {
	for {
		host, job, ok := q.next()
		if !ok {
			return
		}
		job()
		q.done(host)
	}
}

// close lets the workers finish the jobs queued and waits for them. Jobs
// whose round was cancelled return at once.
func (q *pagePool) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	q.wg.Wait()
}
