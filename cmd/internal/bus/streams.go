package bus

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
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
	// BucketRegistry keeps the feed registry: the feeds to poll.
	BucketRegistry = "NEWSFLOW_FEED_REGISTRY"
	// BucketSeen keeps the ids of the feed items already published.
	BucketSeen = "NEWSFLOW_SEEN"
	// BucketHosts keeps the per-host request leases that the ingest
	// replicas share (see HostLeasesKV).
	BucketHosts = "NEWSFLOW_HOSTS"
)

// RawSubject is the subject of a raw article of the feed with token feed.
func RawSubject(feed string) string { return subjectRaw + "." + feed }

// ArticleSubject is the subject of an article record of the feed with token feed.
func ArticleSubject(feed string) string { return subjectArticles + "." + feed }

// FeedOfSubject returns the feed token of a raw article's or a record's
// subject (RawSubject, ArticleSubject), or "" for any other subject.
func FeedOfSubject(subject string) string {
	for _, prefix := range []string{subjectRaw + ".", subjectArticles + "."} {
		if feed, ok := strings.CutPrefix(subject, prefix); ok && !strings.Contains(feed, ".") {
			return feed
		}
	}
	return ""
}

// parkedSubject is where a stage's poison messages go.
func parkedSubject(consumer string) string { return subjectParked + "." + consumer }

// duplicateWindow is how long JetStream remembers a Nats-Msg-Id. Items seen
// again after it are caught by the seen bucket; records by the store's
// idempotent upsert.
const duplicateWindow = time.Hour

// Limits bound what JetStream keeps of a stream or bucket: messages older
// than MaxAge, and the oldest ones beyond MaxBytes, are removed. Zero means
// no limit.
type Limits struct {
	MaxAge   time.Duration
	MaxBytes int64
}

// Retention holds the limits of each stream and bucket newsflow keeps.
type Retention struct {
	Raw, Articles, Parked Limits
	// Bodies is the NEWS_BODIES object store; its objects also go once the
	// messages that reference them are gone (see SweepBodies). When full it
	// refuses new objects rather than drop parts of old ones.
	Bodies Limits
	// Seen is the seen bucket: MaxAge is how long an item id is remembered,
	// and beyond MaxBytes the oldest ids are forgotten (such an item would
	// be published again and caught by the store's idempotent upsert).
	Seen Limits
}

// DefaultRetention fits in about 4.4 GiB of disk: NEWS_RAW 2 GiB or 7 days,
// NEWS_ARTICLES 1 GiB or 30 days, NEWS_PARKED 256 MiB or 30 days,
// NEWS_BODIES 1 GiB or 7 days, the seen bucket 128 MiB or SeenTTL.
func DefaultRetention() Retention {
	const day = 24 * time.Hour
	return Retention{
		Raw:      Limits{MaxAge: 7 * day, MaxBytes: 2 << 30},
		Articles: Limits{MaxAge: 30 * day, MaxBytes: 1 << 30},
		Parked:   Limits{MaxAge: 30 * day, MaxBytes: 256 << 20},
		Bodies:   Limits{MaxAge: 7 * day, MaxBytes: 1 << 30},
		Seen:     Limits{MaxAge: SeenTTL, MaxBytes: 128 << 20},
	}
}

// Metadata keys that record the limits newsflow itself last set on a stream
// (servers 2.10 and later keep stream metadata). A limit that differs from
// its recorded value was set by an operator, and newsflow keeps it.
const (
	metaMaxAge   = "newsflow_max_age"
	metaMaxBytes = "newsflow_max_bytes"
)

// want is what newsflow asks of an existing stream or bucket's stream.
type want struct {
	replicas int
	// limits is nil when this connection leaves limits as they are (a
	// short-lived command that was given none).
	limits *Limits
	// compress asks for S2 compression (the server must be 2.10 or later)
	// of a stream that has one replica.
	compress bool
	// discardOld drops the oldest messages at MaxBytes instead of refusing
	// new ones (a key-value bucket's default).
	discardOld bool
}

// merge returns have with what w asks applied, never lowering replicas nor
// overriding a limit an operator set, a line per change, and a line per
// limit kept against w.
func merge(have jetstream.StreamConfig, w want) (out jetstream.StreamConfig, changes, kept []string) {
	out = have
	out.Metadata = maps.Clone(have.Metadata)
	if w.replicas > have.Replicas {
		out.Replicas = w.replicas
		changes = append(changes, fmt.Sprintf("replicas %d -> %d", have.Replicas, w.replicas))
	}
	if w.limits != nil {
		if out.Metadata == nil {
			out.Metadata = map[string]string{}
		}
		age := ownLimit(have.Metadata, metaMaxAge, have.MaxAge.String(), have.MaxAge == 0)
		if age && have.MaxAge != w.limits.MaxAge {
			out.MaxAge = w.limits.MaxAge
			changes = append(changes, fmt.Sprintf("max age %s -> %s", have.MaxAge, w.limits.MaxAge))
		} else if !age && have.MaxAge != w.limits.MaxAge {
			kept = append(kept, fmt.Sprintf("max age %s (asked %s)", have.MaxAge, w.limits.MaxAge))
		}
		setOwned(out.Metadata, metaMaxAge, age, out.MaxAge.String())
		size := ownLimit(have.Metadata, metaMaxBytes, strconv.FormatInt(have.MaxBytes, 10), have.MaxBytes <= 0)
		if size && max(have.MaxBytes, 0) != w.limits.MaxBytes {
			out.MaxBytes = w.limits.MaxBytes
			if out.MaxBytes == 0 {
				out.MaxBytes = -1
			}
			changes = append(changes, fmt.Sprintf("max bytes %d -> %d", have.MaxBytes, out.MaxBytes))
		} else if !size && max(have.MaxBytes, 0) != w.limits.MaxBytes {
			kept = append(kept, fmt.Sprintf("max bytes %d (asked %d)", have.MaxBytes, w.limits.MaxBytes))
		}
		setOwned(out.Metadata, metaMaxBytes, size, strconv.FormatInt(out.MaxBytes, 10))
	}
	if out.MaxAge > 0 && out.Duplicates > out.MaxAge {
		out.Duplicates = out.MaxAge
	}
	// Replicated streams stay uncompressed: on nats-server 2.15, a server
	// killed (kill -9) while its streams were S2-compressed could not
	// replay them when it came back ("Critical write error: smb.truncate:
	// error reading compression reader: s2: corrupt input", then "monitor
	// goroutine not running"), and its replicas stayed dead until the
	// stream was rebuilt: seen in 4 of 5 runs of deploy/composetest.
	if w.compress && have.Compression == jetstream.NoCompression && out.Replicas <= 1 {
		out.Compression = jetstream.S2Compression
		changes = append(changes, "compression s2")
	}
	if w.discardOld && have.Discard != jetstream.DiscardOld {
		out.Discard = jetstream.DiscardOld
		changes = append(changes, "discard old")
	}
	return out, changes, kept
}

// ownLimit reports whether newsflow may set a limit: it set the current
// value itself (recorded under key), or the limit is unset and nobody
// recorded anything.
func ownLimit(meta map[string]string, key, current string, unset bool) bool {
	rec, ok := meta[key]
	if !ok {
		return unset
	}
	return rec == current
}

// setByOperator marks a limit newsflow leaves alone for good, even when
// the operator later removes it.
const setByOperator = "set outside newsflow"

func setOwned(meta map[string]string, key string, own bool, value string) {
	if !own {
		value = setByOperator
	}
	meta[key] = value
}

// limitsFor is what this connection asks for stream or bucket name's
// limits: nil when it was given no Retention.
func (b *Bus) limitsFor(get func(Retention) Limits) *Limits {
	if b.retention == nil {
		return nil
	}
	l := get(*b.retention)
	return &l
}

func (b *Bus) retentionOrDefault() Retention {
	if b.retention != nil {
		return *b.retention
	}
	return DefaultRetention()
}

func (b *Bus) streamConfigs() []streamSpec {
	r := b.retentionOrDefault()
	base := func(name, subject, desc string, get func(Retention) Limits) streamSpec {
		l := get(r)
		cfg := jetstream.StreamConfig{
			Name:        name,
			Description: desc,
			Subjects:    []string{subject + ".>"},
			Retention:   jetstream.LimitsPolicy,
			Storage:     jetstream.FileStorage,
			Replicas:    b.replicas,
			Duplicates:  min(duplicateWindow, cmp.Or(l.MaxAge, duplicateWindow)),
			Discard:     jetstream.DiscardOld,
			MaxAge:      l.MaxAge,
			MaxBytes:    cmp.Or(l.MaxBytes, -1),
			Metadata:    limitsMeta(l),
		}
		if b.compress {
			cfg.Compression = jetstream.S2Compression
		}
		return streamSpec{cfg: cfg, want: b.wantFor(get)}
	}
	return []streamSpec{
		base(StreamRaw, subjectRaw, "newsflow: fetched article pages (ingest.RawArticle JSON)",
			func(r Retention) Limits { return r.Raw }),
		base(StreamArticles, subjectArticles, "newsflow: extracted article records (process.Article JSON)",
			func(r Retention) Limits { return r.Articles }),
		base(StreamParked, subjectParked, "newsflow: messages that failed for good, with their error in headers",
			func(r Retention) Limits { return r.Parked }),
	}
}

type streamSpec struct {
	cfg  jetstream.StreamConfig
	want want
}

func (b *Bus) wantFor(get func(Retention) Limits) want {
	return want{replicas: b.replicas, limits: b.limitsFor(get), compress: b.compress}
}

// setup creates the streams and the bodies bucket, or brings existing ones
// up to what this connection asks without lowering anything (see merge).
func (b *Bus) setup(ctx context.Context) error {
	for _, s := range b.streamConfigs() {
		err := b.ensure(ctx, s.cfg.Name, s.want, func() error {
			_, err := b.js.CreateStream(ctx, s.cfg)
			return err
		})
		if err != nil {
			return fmt.Errorf("bus: stream %s: %w", s.cfg.Name, noRoom(err))
		}
	}
	l := b.retentionOrDefault().Bodies
	err := b.ensure(ctx, "OBJ_"+BucketBodies, b.wantFor(func(r Retention) Limits { return r.Bodies }), func() error {
		_, err := b.js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket:      BucketBodies,
			Description: "newsflow: payloads larger than one NATS message, referenced from the streams",
			Storage:     jetstream.FileStorage,
			Replicas:    b.replicas,
			TTL:         l.MaxAge,
			MaxBytes:    l.MaxBytes,
			Compression: b.compress,
			Metadata:    limitsMeta(l),
		})
		return err
	})
	if err == nil {
		b.bodies, err = b.js.ObjectStore(ctx, BucketBodies)
	}
	if err != nil {
		return fmt.Errorf("bus: object store %s: %w", BucketBodies, noRoom(err))
	}
	return nil
}

// limitsMeta records l as set by newsflow (see merge).
func limitsMeta(l Limits) map[string]string {
	return map[string]string{metaMaxAge: l.MaxAge.String(), metaMaxBytes: strconv.FormatInt(cmp.Or(l.MaxBytes, -1), 10)}
}

// ensure creates stream name with create when it does not exist, and
// otherwise applies w to its configuration.
func (b *Bus) ensure(ctx context.Context, name string, w want, create func() error) error {
	s, err := b.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		cerr := create()
		if cerr == nil {
			b.log.Info("created", "stream", name, "replicas", w.replicas)
		}
		// Made now, or by another process first: bring it up to w (a
		// bucket's creation cannot say all of it).
		if s, err = b.js.Stream(ctx, name); err != nil && cerr != nil {
			err = cerr
		}
	}
	if err != nil {
		return err
	}
	have := s.CachedInfo().Config
	cfg, changes, kept := merge(have, w)
	if len(kept) > 0 {
		b.log.Info("keeping limits set outside newsflow (on NATS 2.9, any limit after creation); change them with the nats CLI",
			"stream", name, "kept", strings.Join(kept, ", "))
	}
	// Servers before 2.10 keep no metadata: nothing to record there.
	if reflect.DeepEqual(cfg, have) || len(changes) == 0 && !b.compress {
		return nil
	}
	if _, err := b.js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("update (%s): %w", strings.Join(changes, ", "), err)
	}
	b.log.Info("updated", "stream", name, "changes", cmp.Or(strings.Join(changes, ", "), "limits recorded as newsflow's or an operator's"))
	return nil
}

// KeyValue creates the bucket cfg (with the bus's replicas), or brings an
// existing one up to them without lowering anything, and returns it. The
// seen bucket gets Retention.Seen, dropping its oldest ids at the size limit.
func (b *Bus) KeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if cfg.Replicas == 0 {
		cfg.Replicas = b.replicas
	}
	compress := b.compress && cfg.Storage == jetstream.FileStorage // S2 is for files
	cfg.Compression = compress
	w := want{replicas: cfg.Replicas, compress: compress}
	if cfg.Bucket == BucketSeen {
		l := b.retentionOrDefault().Seen
		cfg.TTL, cfg.MaxBytes, cfg.Metadata = l.MaxAge, l.MaxBytes, limitsMeta(l)
		w.limits, w.discardOld = b.limitsFor(func(r Retention) Limits { return r.Seen }), true
	}
	err := b.ensure(ctx, "KV_"+cfg.Bucket, w, func() error {
		_, err := b.js.CreateKeyValue(ctx, cfg)
		return err
	})
	var kv jetstream.KeyValue
	if err == nil {
		kv, err = b.js.KeyValue(ctx, cfg.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("bus: bucket %s: %w", cfg.Bucket, noRoom(err))
	}
	return kv, nil
}

// noRoom explains the error of a server that cannot reserve a size limit:
// JetStream sets aside every stream's MaxBytes up front, and the embedded
// server has 75% of the disk's free space to set aside.
func noRoom(err error) error {
	var api *jetstream.APIError
	if errors.As(err, &api) && api.ErrorCode == 10047 {
		return fmt.Errorf("the server has no room to reserve the size limits (lower the --*-max-bytes settings, or free disk space): %w", err)
	}
	return err
}
