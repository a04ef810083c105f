package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// The streams, their subjects and the durable consumers of each stage. These
// are the only place the names are spelled.
const (
	// StreamRaw is the replayable log of fetched pages (ingest.RawArticle).
	StreamRaw = "NEWS_RAW"
	// StreamArticles is the replayable log of records (process.Article).
	StreamArticles = "NEWS_ARTICLES"
	// StreamParked holds messages that can never succeed, with their error.
	StreamParked = "NEWS_PARKED"

	subjectRaw      = "news.raw"
	subjectArticles = "news.article"
	subjectParked   = "news.parked"

	// ConsumerProcess is the processors' durable consumer on StreamRaw.
	ConsumerProcess = "process"
	// ConsumerStore is the store's durable consumer on StreamArticles.
	ConsumerStore = "store"

	// BucketBodies keeps message payloads too large for one NATS message.
	BucketBodies = "NEWS_BODIES"
	// BucketFeeds keeps per-feed fetch state.
	BucketFeeds = "NEWSFLOW_FEEDS"
	// BucketSeen keeps the ids of the feed items already published.
	BucketSeen = "NEWSFLOW_SEEN"
)

// RawSubject is the subject of a raw article of the feed with token feed.
func RawSubject(feed string) string { return subjectRaw + "." + feed }

// ArticleSubject is the subject of an article record of the feed with token feed.
func ArticleSubject(feed string) string { return subjectArticles + "." + feed }

// parkedSubject is where a stage's poison messages go.
func parkedSubject(consumer string) string { return subjectParked + "." + consumer }

// duplicateWindow is how long JetStream remembers a Nats-Msg-Id. Items seen
// again after it are caught by the seen bucket; records by the store's
// idempotent upsert.
const duplicateWindow = time.Hour

func (b *Bus) streamConfigs() []jetstream.StreamConfig {
	base := func(name, subject, desc string) jetstream.StreamConfig {
		return jetstream.StreamConfig{
			Name:        name,
			Description: desc,
			Subjects:    []string{subject + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    b.replicas,
			Duplicates:  duplicateWindow,
			Discard:     jetstream.DiscardOld,
		}
	}
	return []jetstream.StreamConfig{
		base(StreamRaw, subjectRaw, "newsflow: fetched article pages (ingest.RawArticle JSON)"),
		base(StreamArticles, subjectArticles, "newsflow: extracted article records (process.Article JSON)"),
		base(StreamParked, subjectParked, "newsflow: messages that failed for good, with their error in headers"),
	}
}

// setup creates or updates the streams and buckets.
func (b *Bus) setup(ctx context.Context) error {
	for _, cfg := range b.streamConfigs() {
		if _, err := b.js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("bus: stream %s: %w", cfg.Name, err)
		}
	}
	var err error
	b.bodies, err = b.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      BucketBodies,
		Description: "newsflow: payloads larger than one NATS message, referenced from the streams",
		Storage:     jetstream.FileStorage,
		Replicas:    b.replicas,
	})
	if err != nil {
		return fmt.Errorf("bus: object store %s: %w", BucketBodies, err)
	}
	return nil
}

// KeyValue creates or updates the bucket cfg (with the bus's replicas) and
// returns it.
func (b *Bus) KeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if cfg.Replicas == 0 {
		cfg.Replicas = b.replicas
	}
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bus: bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}
