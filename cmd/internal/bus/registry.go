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

// FeedRegistryBucket is the configuration of the feed registry
// (BucketRegistry): one key per feed token, a JSON ingest.FeedRecord.
func FeedRegistryBucket() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      BucketRegistry,
		Description: "newsflow: the feeds to poll (ingest.FeedRecord JSON by feed token)",
		History:     1,
		Storage:     jetstream.FileStorage,
	}
}

// FeedRegistry is the list of feeds every fetcher replica polls, on a
// JetStream key-value bucket: a change made through one process (the API,
// `newsflow feeds`) reaches every Poller watching it at once.
type FeedRegistry struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

var _ ingest.FeedWatcher = (*FeedRegistry)(nil)

// NewFeedRegistry returns the registry on kv.
func NewFeedRegistry(kv jetstream.KeyValue) *FeedRegistry {
	return &FeedRegistry{kv: kv, now: time.Now}
}

// FeedRegistry creates or updates the registry bucket, never lowering its
// replicas, and returns the registry on it.
func (b *Bus) FeedRegistry(ctx context.Context) (*FeedRegistry, error) {
	kv, err := b.KeyValue(ctx, FeedRegistryBucket())
	if err != nil {
		return nil, err
	}
	return NewFeedRegistry(kv), nil
}

// Feeds returns every registered feed, in the order of their keys.
func (r *FeedRegistry) Feeds(ctx context.Context) ([]ingest.FeedRecord, error) {
	out := []ingest.FeedRecord{}
	err := eachEntry(ctx, r.kv, func(e jetstream.KeyValueEntry) {
		if rec, ok := decodeRecord(e); ok {
			out = append(out, rec)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("bus: list feeds: %w", err)
	}
	return out, nil
}

// eachEntry calls fn with each key's value in kv, in key order.
func eachEntry(ctx context.Context, kv jetstream.KeyValue, fn func(jetstream.KeyValueEntry)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return temporary(fmt.Errorf("read %s: %w", kv.Bucket(), err))
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return temporary(fmt.Errorf("read %s: the watch ended early", kv.Bucket()))
			}
			if e == nil {
				return nil
			}
			fn(e)
		}
	}
}

// decodeRecord reads a registry entry; one newsflow cannot read is
// skipped (its key stays, for `nats kv get` to show).
func decodeRecord(e jetstream.KeyValueEntry) (ingest.FeedRecord, bool) {
	var rec ingest.FeedRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil || rec.URL == "" {
		return ingest.FeedRecord{}, false
	}
	rec.Token = e.Key()
	return rec, true
}

// Feed returns the feed registered under token, or an error wrapping
// ingest.ErrFeedNotFound.
func (r *FeedRegistry) Feed(ctx context.Context, token string) (ingest.FeedRecord, error) {
	rec, _, err := r.get(ctx, token)
	return rec, err
}

func (r *FeedRegistry) get(ctx context.Context, token string) (ingest.FeedRecord, uint64, error) {
	if !ingest.ValidToken(token) {
		return ingest.FeedRecord{}, 0, fmt.Errorf("feed %q: %w", token, ingest.ErrFeedNotFound)
	}
	e, err := r.kv.Get(ctx, token)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return ingest.FeedRecord{}, 0, fmt.Errorf("feed %q: %w", token, ingest.ErrFeedNotFound)
	}
	if err != nil {
		return ingest.FeedRecord{}, 0, temporary(fmt.Errorf("bus: get feed %s/%s: %w", r.kv.Bucket(), token, err))
	}
	rec, ok := decodeRecord(e)
	if !ok {
		return ingest.FeedRecord{}, 0, fmt.Errorf("bus: feed %s/%s holds no feed record newsflow can read", r.kv.Bucket(), token)
	}
	return rec, e.Revision(), nil
}

// AddFeed registers f (unpaused, added now) and returns its record. A feed
// already registered gives an error wrapping ingest.ErrFeedExists.
func (r *FeedRegistry) AddFeed(ctx context.Context, f ingest.Feed) (ingest.FeedRecord, error) {
	if f.Token == "" {
		f.Token = ingest.FeedToken(f.URL)
	}
	rec := ingest.FeedRecord{Token: f.Token, URL: f.URL, Title: f.Title, Added: r.now().UTC().Truncate(time.Second)}
	if !ingest.ValidToken(rec.Token) {
		return ingest.FeedRecord{}, fmt.Errorf("bus: feed %s: token %q is not a valid key", f.URL, f.Token)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return ingest.FeedRecord{}, fmt.Errorf("bus: encode feed %s: %w", f.URL, err)
	}
	_, err = r.kv.Create(ctx, rec.Token, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return ingest.FeedRecord{}, fmt.Errorf("feed %s: %w", f.URL, ingest.ErrFeedExists)
	}
	if err != nil {
		return ingest.FeedRecord{}, temporary(fmt.Errorf("bus: add feed %s: %w", f.URL, err))
	}
	return rec, nil
}

// ChangeFeed removes, pauses or resumes the feed registered under token
// and returns its record as it now is (as it was, for a removal). A token
// not registered gives an error wrapping ingest.ErrFeedNotFound.
func (r *FeedRegistry) ChangeFeed(ctx context.Context, token string, op ingest.FeedOp) (ingest.FeedRecord, error) {
	for {
		rec, rev, err := r.get(ctx, token)
		if err != nil {
			return ingest.FeedRecord{}, err
		}
		switch op {
		case ingest.FeedRemove:
			err = r.kv.Delete(ctx, token, jetstream.LastRevision(rev))
		case ingest.FeedPause, ingest.FeedResume:
			if rec.Paused == (op == ingest.FeedPause) {
				return rec, nil
			}
			rec.Paused = op == ingest.FeedPause
			var data []byte
			if data, err = json.Marshal(rec); err == nil {
				_, err = r.kv.Update(ctx, token, data, rev)
			}
		default:
			return ingest.FeedRecord{}, fmt.Errorf("bus: feed %s: %v (%d)", token, op, int(op))
		}
		switch {
		case err == nil:
			return rec, nil
		case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			continue // changed by another since we read it: read it again
		case ctx.Err() != nil:
			return ingest.FeedRecord{}, ctx.Err()
		}
		return ingest.FeedRecord{}, temporary(fmt.Errorf("bus: %v feed %s/%s: %w", op, r.kv.Bucket(), token, err))
	}
}

// Seed registers the feeds of a feed list that are not registered yet and
// returns how many it added. The list only adds: a feed registered before
// and missing from the list stays (remove it with `newsflow feeds remove`
// or the API), and a paused one stays paused.
func (r *FeedRegistry) Seed(ctx context.Context, feeds []ingest.Feed) (int, error) {
	added := 0
	for _, f := range feeds {
		_, err := r.AddFeed(ctx, f)
		switch {
		case err == nil:
			added++
		case errors.Is(err, ingest.ErrFeedExists):
		default:
			return added, err
		}
	}
	return added, nil
}

// WatchFeeds calls update with every registered feed, then with each
// change, until ctx ends (see ingest.FeedWatcher). A paused or removed
// feed is reported inactive.
func (r *FeedRegistry) WatchFeeds(ctx context.Context, update func(f ingest.Feed, active bool)) error {
	w, err := r.kv.WatchAll(ctx)
	if err != nil {
		return temporary(fmt.Errorf("bus: watch feeds in %s: %w", r.kv.Bucket(), err))
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return temporary(fmt.Errorf("bus: watch feeds in %s: the watch ended", r.kv.Bucket()))
			}
			if e == nil {
				continue // the end of the initial values
			}
			if e.Operation() != jetstream.KeyValuePut {
				update(ingest.Feed{Token: e.Key()}, false)
				continue
			}
			if rec, ok := decodeRecord(e); ok {
				update(rec.Feed(), !rec.Paused)
			}
		}
	}
}
