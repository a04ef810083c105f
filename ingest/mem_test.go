package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// memState is an in-memory StateStore with compare-and-set. Values are kept
// as JSON, like the bus does, so a test sees what a replica would load.
type memState struct {
	mu    sync.Mutex
	vals  map[string][]byte
	revs  map[string]uint64
	seq   uint64
	saves int
	fail  error // returned by every call when set
}

func newMemState() *memState {
	return &memState{vals: map[string][]byte{}, revs: map[string]uint64{}}
}

func (m *memState) LoadFeedState(ctx context.Context, token string) (FeedState, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return FeedState{}, 0, m.fail
	}
	var s FeedState
	if b, ok := m.vals[token]; ok {
		if err := json.Unmarshal(b, &s); err != nil {
			return FeedState{}, 0, err
		}
	}
	return s, m.revs[token], nil
}

func (m *memState) SaveFeedState(ctx context.Context, token string, s FeedState, rev uint64) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return 0, m.fail
	}
	if m.revs[token] != rev {
		return 0, fmt.Errorf("save %s at revision %d, now %d: %w", token, rev, m.revs[token], ErrStateConflict)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	m.seq++
	m.vals[token] = b
	m.revs[token] = m.seq
	m.saves++
	return m.seq, nil
}

// get returns the stored state of token.
func (m *memState) get(token string) FeedState {
	s, _, err := m.LoadFeedState(context.Background(), token)
	if err != nil {
		panic(err)
	}
	return s
}

// memSeen is an in-memory SeenStore.
type memSeen struct {
	mu   sync.Mutex
	ids  map[string]time.Time
	fail error
}

func newMemSeen() *memSeen { return &memSeen{ids: map[string]time.Time{}} }

func (m *memSeen) Seen(ctx context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return false, m.fail
	}
	_, ok := m.ids[id]
	return ok, nil
}

func (m *memSeen) MarkSeen(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.ids[id] = time.Now()
	return nil
}

// memPub is an in-memory Publisher. failAt, when positive, makes the
// failAt-th publish (counting from 1) fail.
type memPub struct {
	mu     sync.Mutex
	got    []RawArticle
	calls  int
	failAt int
}

var errBusDown = errors.New("bus is down")

func (m *memPub) PublishRaw(ctx context.Context, a RawArticle) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.failAt > 0 && m.calls == m.failAt {
		return errBusDown
	}
	m.got = append(m.got, a)
	return nil
}

func (m *memPub) articles() []RawArticle {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]RawArticle(nil), m.got...)
}

// byTitle returns the published articles keyed by item title.
func (m *memPub) byTitle() map[string]RawArticle {
	out := map[string]RawArticle{}
	for _, a := range m.articles() {
		out[a.Item.Title] = a
	}
	return out
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
