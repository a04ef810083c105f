package bus

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/ingest"
)

// hostsTTL is how long a host's record outlives its last write: longer than
// any wait a host can ask for (ingest caps a Retry-After at 6 hours).
const hostsTTL = 24 * time.Hour

// slotPoll is how often a request waiting for a free slot of a host looks
// again (with jitter): slots are given back without notice.
const slotPoll = 50 * time.Millisecond

// HostBucket is the configuration of the bucket of per-host request leases
// (BucketHosts): one key per host, a JSON hostRecord, updated with
// compare-and-set; a host's key goes hostsTTL after its last request. It
// is kept in memory: its records only matter while the fetchers run, and a
// bucket on disk costs two synced writes per request (on the embedded
// server, which syncs every write, about a third of all syncs). A NATS
// restart forgets them (the slots in flight lapse at once and a host's
// Retry-After wait ends early), and HostLeasesKV makes it again.
func HostBucket() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      BucketHosts,
		Description: "newsflow: per-host request slots, spacing and waits shared by the ingest replicas",
		History:     1,
		TTL:         hostsTTL,
		Storage:     jetstream.MemoryStorage,
	}
}

// hostRecord is what the replicas share about one host.
type hostRecord struct {
	// Host is the host's name and port, for people reading the bucket.
	Host string `json:"host"`
	// Next is when the next request may start: Spacing after the start of
	// the last one, and after the end of the last one that ended.
	Next time.Time `json:"next,omitzero"`
	// Deferred is when the host's wait after a 429 or 503 ends.
	Deferred time.Time `json:"deferred,omitzero"`
	// Slots are the requests in flight: lease id -> when the lease lapses
	// if it is not given back.
	Slots map[string]time.Time `json:"slots,omitempty"`
}

// prune drops the slots that lapsed by now.
func (r *hostRecord) prune(now time.Time) {
	for id, until := range r.Slots {
		if !until.After(now) {
			delete(r.Slots, id)
		}
	}
}

// HostLeasesKV is an ingest.HostLeases on a JetStream key-value bucket (see
// HostBucket), shared by every ingest replica on the bus. Each request
// takes a slot of its host with compare-and-set, renews it every Hold/3
// while it runs and gives it back when it ends; the slot of a replica that
// died lapses ingest.HostLimit.Hold after its last renewal. Replicas' clocks must agree to well within the
// spacing.
type HostLeasesKV struct {
	mu sync.Mutex
	kv jetstream.KeyValue
	// remake makes the bucket again when it is gone (nil: it is not): a
	// bucket in memory does not outlive its NATS server, nor JetStream's
	// restart after a full disk.
	remake func(context.Context) (jetstream.KeyValue, error)
}

var _ ingest.HostLeases = (*HostLeasesKV)(nil)

// NewHostLeasesKV returns the host leases on kv.
func NewHostLeasesKV(kv jetstream.KeyValue) *HostLeasesKV { return &HostLeasesKV{kv: kv} }

// HostLeases creates or updates the hosts bucket and returns the leases on
// it, ready for an ingest.PollerConfig.
func (b *Bus) HostLeases(ctx context.Context) (*HostLeasesKV, error) {
	if err := b.dropHostsOnDisk(ctx); err != nil {
		return nil, err
	}
	kv, err := b.KeyValue(ctx, HostBucket())
	if err != nil {
		return nil, err
	}
	h := NewHostLeasesKV(kv)
	h.remake = func(ctx context.Context) (jetstream.KeyValue, error) {
		if _, err := b.js.Stream(ctx, "KV_"+BucketHosts); !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("bucket %s not gone: %w", BucketHosts, err)
		}
		return b.KeyValue(ctx, HostBucket())
	}
	return h, nil
}

// bucket is the bucket the leases are in now.
func (h *HostLeasesKV) bucket() jetstream.KeyValue {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kv
}

// reviveWait bounds asking whether the bucket is gone after a failed read
// or write of it, and making it again.
const reviveWait = time.Second

// revived makes the bucket again after a read or write of it failed, if
// the bucket is gone (NATS restarted: no answer, or none in time on NATS
// 2.9), and reports whether it did: the caller tries once more. During an
// outage the question fails too, and the error stands.
func (h *HostLeasesKV) revived(ctx context.Context) bool {
	if h.remake == nil || ctx.Err() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, reviveWait)
	defer cancel()
	kv, err := h.remake(ctx)
	if err != nil {
		return false
	}
	h.mu.Lock()
	h.kv = kv
	h.mu.Unlock()
	return true
}

// dropHostsOnDisk deletes a hosts bucket that an earlier newsflow made on
// disk (a stream's storage cannot change), so that HostLeases makes it
// again in memory. Its records are leases of a few seconds and waits that
// the next 429 sets again: nothing is lost that matters.
func (b *Bus) dropHostsOnDisk(ctx context.Context) error {
	name := "KV_" + BucketHosts
	s, err := b.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bus: bucket %s: %w", BucketHosts, err)
	}
	if s.CachedInfo().Config.Storage == jetstream.MemoryStorage {
		return nil
	}
	if err := b.js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("bus: bucket %s: delete the copy on disk: %w", BucketHosts, err)
	}
	b.log.Info("deleted the host leases bucket on disk, to make it again in memory", "bucket", BucketHosts)
	return nil
}

// errConflict is a compare-and-set that lost to another replica.
var errConflict = errors.New("host record changed concurrently")

// Acquire waits until a request to host may start under lim and takes a
// slot for it. It returns an *ingest.HostDeferredError at once while the
// host's wait lasts.
func (h *HostLeasesKV) Acquire(ctx context.Context, host string, lim ingest.HostLimit) (func(), error) {
	key := hostKey(host)
	id := leaseID()
	for {
		rec, rev, err := h.load(ctx, key)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		rec.prune(now)
		if rec.Deferred.After(now) {
			return nil, &ingest.HostDeferredError{Host: host, Wait: rec.Deferred.Sub(now)}
		}
		wait := rec.Next.Sub(now)
		if len(rec.Slots) >= max(lim.MaxInFlight, 1) {
			wait = max(wait, slotPoll/2+rand.N(slotPoll))
		}
		if wait > 0 {
			sleep(ctx, wait)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			continue
		}
		if rec.Slots == nil {
			rec.Slots = map[string]time.Time{}
		}
		rec.Host = host
		rec.Slots[id] = now.Add(lim.Hold)
		rec.Next = now.Add(lim.Spacing)
		err = h.save(ctx, key, rec, rev)
		if errors.Is(err, errConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return h.renew(host, key, id, lim), nil
	}
}

// renew keeps slot id of host alive, every Hold/3 while the request runs,
// and returns the function that stops it and gives the slot back.
func (h *HostLeasesKV) renew(host, key, id string, lim ingest.HostLimit) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(lim.Hold/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), lim.Hold/3+time.Second)
			h.update(ctx, host, key, func(rec *hostRecord, now time.Time) bool {
				if _, ok := rec.Slots[id]; !ok {
					return false // lapsed: the request runs on without it
				}
				rec.Slots[id] = now.Add(lim.Hold)
				return true
			})
			cancel()
		}
	}()
	return func() {
		close(stop)
		<-done
		h.release(host, key, id, lim.Spacing)
	}
}

// release gives slot id of host back, and sets the next request at least
// spacing after now. If the bus cannot be reached the slot lapses at its
// Hold.
func (h *HostLeasesKV) release(host, key, id string, spacing time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.update(ctx, host, key, func(rec *hostRecord, now time.Time) bool {
		delete(rec.Slots, id)
		if next := now.Add(spacing); next.After(rec.Next) {
			rec.Next = next
		}
		return true
	})
}

// Defer holds every request to host back for d.
func (h *HostLeasesKV) Defer(ctx context.Context, host string, d time.Duration) error {
	return h.update(ctx, host, hostKey(host), func(rec *hostRecord, now time.Time) bool {
		if until := now.Add(d); until.After(rec.Deferred) {
			rec.Deferred = until
		}
		return true
	})
}

// update applies change to host's record with compare-and-set, trying
// again when another replica wrote first. A change that reports false
// writes nothing.
func (h *HostLeasesKV) update(ctx context.Context, host, key string, change func(*hostRecord, time.Time) bool) error {
	for {
		rec, rev, err := h.load(ctx, key)
		if err != nil {
			return err
		}
		now := time.Now()
		rec.prune(now)
		rec.Host = host
		if !change(&rec, now) {
			return nil
		}
		if err := h.save(ctx, key, rec, rev); !errors.Is(err, errConflict) {
			return err
		}
	}
}

func (h *HostLeasesKV) load(ctx context.Context, key string) (hostRecord, uint64, error) {
	e, err := h.get(ctx, key)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) && h.revived(ctx) {
		e, err = h.get(ctx, key)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return hostRecord{}, 0, nil
	case err != nil:
		return hostRecord{}, 0, temporary(fmt.Errorf("bus: load host record %s/%s: %w", BucketHosts, key, err))
	}
	var rec hostRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		// Unreadable: overwritten by the next write, as if empty.
		return hostRecord{}, e.Revision(), nil
	}
	return rec, e.Revision(), nil
}

func (h *HostLeasesKV) get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	return h.bucket().Get(ctx, key)
}

func (h *HostLeasesKV) save(parent context.Context, key string, rec hostRecord, rev uint64) error {
	ctx, cancel := kvContext(parent)
	defer cancel()
	data, err := json.Marshal(rec)
	if err != nil {
		return permanent(fmt.Errorf("bus: encode host record %s: %w", key, err))
	}
	if rev == 0 {
		_, err = h.bucket().Create(ctx, key, data)
	} else {
		_, err = h.bucket().Update(ctx, key, data, rev)
	}
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && h.revived(parent) {
		return errConflict // made again empty: read the record again
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return errConflict
	}
	return temporary(fmt.Errorf("bus: save host record %s/%s: %w", BucketHosts, key, err))
}

// hostKey is the bucket key of host: its lower-case name, with every byte
// a key may not hold (':' before a port, IPv6 brackets, a dot at either
// end or next to another) written as =XX.
func hostKey(host string) string {
	host = strings.ToLower(host)
	var b strings.Builder
	for i := 0; i < len(host); i++ {
		c := host[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
		if c == '.' {
			ok = i > 0 && i < len(host)-1 && host[i-1] != '.' && host[i+1] != '.'
		}
		if ok {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	if b.Len() == 0 {
		return "=" // no host
	}
	return b.String()
}

// leaseID names one request's slot.
func leaseID() string {
	var b [8]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
