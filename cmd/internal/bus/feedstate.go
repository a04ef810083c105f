package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/ingest"
)

// SeenTTL is how long the seen bucket remembers a published item. An item
// still in its feed after that is published again (and then caught by the
// store's idempotent upsert), so it should be longer than any feed keeps
// an item.
const SeenTTL = 90 * 24 * time.Hour

// FeedStateBucket is the configuration of the bucket of per-feed fetch
// state (BucketFeeds): one key per feed token, a JSON ingest.FeedState,
// updated with compare-and-set.
func FeedStateBucket() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      BucketFeeds,
		Description: "newsflow: per-feed fetch state (ingest.FeedState JSON by feed token)",
		History:     1,
		Storage:     jetstream.FileStorage,
	}
}

// SeenBucket is the configuration of the bucket of published item ids
// (BucketSeen), each kept for SeenTTL.
func SeenBucket() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      BucketSeen,
		Description: "newsflow: ids of the feed items already published",
		History:     1,
		TTL:         SeenTTL,
		Storage:     jetstream.FileStorage,
	}
}

// FeedStateKV is an ingest.StateStore on a JetStream key-value bucket (see
// FeedStateBucket).
type FeedStateKV struct {
	kv jetstream.KeyValue
}

var _ ingest.StateStore = (*FeedStateKV)(nil)

// NewFeedStateKV returns the state store on kv.
func NewFeedStateKV(kv jetstream.KeyValue) *FeedStateKV { return &FeedStateKV{kv: kv} }

// LoadFeedState returns the state stored under token and its revision, or
// the zero state and revision 0 if there is none.
func (s *FeedStateKV) LoadFeedState(ctx context.Context, token string) (ingest.FeedState, uint64, error) {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	e, err := s.kv.Get(ctx, token)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ingest.FeedState{}, 0, nil
	}
	if err != nil {
		return ingest.FeedState{}, 0, temporary(fmt.Errorf("bus: load feed state %s/%s: %w", s.kv.Bucket(), token, err))
	}
	var st ingest.FeedState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		// A value newsflow cannot read is replaced at the next save, as if
		// the feed had no state: better than never polling it again.
		return ingest.FeedState{}, e.Revision(), nil
	}
	return st, e.Revision(), nil
}

// SaveFeedState stores st under token if the key is still at revision rev
// (0: absent), and returns the new revision. A stale rev gives an error
// wrapping ingest.ErrStateConflict.
func (s *FeedStateKV) SaveFeedState(ctx context.Context, token string, st ingest.FeedState, rev uint64) (uint64, error) {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	data, err := json.Marshal(st)
	if err != nil {
		return 0, permanent(fmt.Errorf("bus: encode feed state %s: %w", token, err))
	}
	var newRev uint64
	if rev == 0 {
		newRev, err = s.kv.Create(ctx, token, data)
	} else {
		newRev, err = s.kv.Update(ctx, token, data, rev)
	}
	switch {
	case err == nil:
		return newRev, nil
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return 0, fmt.Errorf("bus: save feed state %s/%s at revision %d: %w", s.kv.Bucket(), token, rev, ingest.ErrStateConflict)
	}
	return 0, temporary(fmt.Errorf("bus: save feed state %s/%s: %w", s.kv.Bucket(), token, err))
}

// FeedStates returns the state of every feed that has one, by token.
func (s *FeedStateKV) FeedStates(ctx context.Context) (map[string]ingest.FeedState, error) {
	out := map[string]ingest.FeedState{}
	err := eachEntry(ctx, s.kv, func(e jetstream.KeyValueEntry) {
		var st ingest.FeedState
		if json.Unmarshal(e.Value(), &st) == nil {
			out[e.Key()] = st
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bus: list feed states: %w", err)
	}
	return out, nil
}

// SeenKV is an ingest.SeenStore on a JetStream key-value bucket with a TTL
// (see SeenBucket).
type SeenKV struct {
	kv jetstream.KeyValue
}

var _ ingest.SeenStore = (*SeenKV)(nil)

// NewSeenKV returns the seen store on kv.
func NewSeenKV(kv jetstream.KeyValue) *SeenKV { return &SeenKV{kv: kv} }

// Seen reports whether id is in the bucket.
func (s *SeenKV) Seen(ctx context.Context, id string) (bool, error) {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	_, err := s.kv.Get(ctx, id)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	}
	return false, temporary(fmt.Errorf("bus: look up seen item %s/%s: %w", s.kv.Bucket(), id, err))
}

// MarkSeen puts id in the bucket, with the time as its value.
func (s *SeenKV) MarkSeen(ctx context.Context, id string) error {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	if _, err := s.kv.Put(ctx, id, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return temporary(fmt.Errorf("bus: mark item seen %s/%s: %w", s.kv.Bucket(), id, err))
	}
	return nil
}

var _ ingest.PageVersions = (*SeenKV)(nil)

// seenVersion is the value of a seen item with its page version.
type seenVersion struct {
	Seen time.Time `json:"seen"`
	ingest.PageVersion
}

// PageVersion returns the page version saved with the seen item id; ok is
// false for an item not seen, or seen without one (its value is only the
// time, as MarkSeen writes it).
func (s *SeenKV) PageVersion(ctx context.Context, id string) (ingest.PageVersion, bool, error) {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	e, err := s.kv.Get(ctx, id)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return ingest.PageVersion{}, false, nil
	case err != nil:
		return ingest.PageVersion{}, false, temporary(fmt.Errorf("bus: look up seen item %s/%s: %w", s.kv.Bucket(), id, err))
	}
	if len(e.Value()) == 0 || e.Value()[0] != '{' {
		return ingest.PageVersion{}, false, nil
	}
	var v seenVersion
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		// Not ours to fail on: the item is seen, its version unknown.
		return ingest.PageVersion{}, false, nil
	}
	return v.PageVersion, true, nil
}

// MarkSeenVersion puts id in the bucket with the time and the page
// version.
func (s *SeenKV) MarkSeenVersion(ctx context.Context, id string, v ingest.PageVersion) error {
	ctx, cancel := kvContext(ctx)
	defer cancel()
	data, err := json.Marshal(seenVersion{Seen: time.Now().UTC().Truncate(time.Second), PageVersion: v})
	if err != nil {
		return fmt.Errorf("bus: mark item seen %s/%s: %w", s.kv.Bucket(), id, err)
	}
	if _, err := s.kv.Put(ctx, id, data); err != nil {
		return temporary(fmt.Errorf("bus: mark item seen %s/%s: %w", s.kv.Bucket(), id, err))
	}
	return nil
}

// FeedStores creates or updates the feed-state and seen buckets and returns
// the stores on them, ready for an ingest.PollerConfig.
func (b *Bus) FeedStores(ctx context.Context) (*FeedStateKV, *SeenKV, error) {
	feeds, err := b.KeyValue(ctx, FeedStateBucket())
	if err != nil {
		return nil, nil, err
	}
	seen, err := b.KeyValue(ctx, SeenBucket())
	if err != nil {
		return nil, nil, err
	}
	return NewFeedStateKV(feeds), NewSeenKV(seen), nil
}
