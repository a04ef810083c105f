package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/process"
)

// Postgres is a store in a PostgreSQL database (github.com/jackc/pgx/v5),
// in the schema that the connection's search_path names first.
//
// Upserts take a transaction-level advisory lock, so that batches from any
// number of processes apply one at a time: each sees every article committed
// before it, which keeps near-duplicate detection exact and rules out
// deadlocks between batches that share ids. Reads never wait for it.
type Postgres struct {
	pool *pgxpool.Pool
}

// Advisory lock keys: the class 1852143475 is "news" in ASCII, the object a
// hash of the schema and the purpose, so that stores in different schemas of
// one database do not wait for each other.
const (
	pgMigrateLock  = `SELECT pg_advisory_xact_lock(1852143475, hashtext(current_schema() || '.migrate'))`
	pgUpsertLock   = `SELECT pg_advisory_xact_lock(1852143475, hashtext(current_schema() || '.upsert'))`
	pgSchemaTables = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`
)

// postgresSchema lists the migrations of the PostgreSQL schema, version i+1
// at index i. Applied migrations are never edited: add a new one.
var postgresSchema = []string{
	// 1: articles.
	`CREATE TABLE articles (
		id                text PRIMARY KEY,
		seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE, -- insertion order
		url               text NOT NULL,
		feed              text NOT NULL,
		title             text NOT NULL,
		published         timestamptz,
		fetched_at        timestamptz NOT NULL, -- of the stored record
		first_seen        timestamptz NOT NULL, -- fetched_at of the first record
		language          text NOT NULL,
		content_hash      text NOT NULL,
		extractor_version text NOT NULL,
		fingerprint       text,
		fp_band0          integer,              -- the 16-bit bands of fingerprint
		fp_band1          integer,
		fp_band2          integer,
		fp_band3          integer,
		duplicate_of      text REFERENCES articles (id),
		record            jsonb NOT NULL        -- the Article
	);
	CREATE INDEX articles_fetched_at ON articles (fetched_at, id);
	CREATE INDEX articles_url ON articles (url);
	CREATE INDEX articles_feed_published ON articles (feed, published);
	CREATE INDEX articles_published ON articles (published);
	CREATE INDEX articles_language ON articles (language);
	CREATE INDEX articles_content_hash ON articles (content_hash);
	CREATE INDEX articles_extractor_version ON articles (extractor_version);
	CREATE INDEX articles_duplicate_of ON articles (duplicate_of) WHERE duplicate_of IS NOT NULL;
	CREATE INDEX articles_fp_band0 ON articles (fp_band0) WHERE fp_band0 IS NOT NULL;
	CREATE INDEX articles_fp_band1 ON articles (fp_band1) WHERE fp_band1 IS NOT NULL;
	CREATE INDEX articles_fp_band2 ON articles (fp_band2) WHERE fp_band2 IS NOT NULL;
	CREATE INDEX articles_fp_band3 ON articles (fp_band3) WHERE fp_band3 IS NOT NULL;`,
	// 2: full-text search.
	postgresSearchMigration,
	// 3: the addresses and earlier versions of an article.
	`ALTER TABLE articles ADD COLUMN revised_at timestamptz; -- fetched_at of the current version's first record; NULL: first_seen
	CREATE TABLE article_aliases (
		url        text PRIMARY KEY, -- as seen, without tracking parameters (metadata.TrimURL)
		url_key    text NOT NULL,    -- metadata.URLKey of url
		article_id text NOT NULL REFERENCES articles (id),
		first_seen timestamptz NOT NULL
	);
	CREATE INDEX article_aliases_url_key ON article_aliases (url_key);
	CREATE INDEX article_aliases_article ON article_aliases (article_id, first_seen);
	CREATE TABLE article_revisions (
		article_id        text NOT NULL REFERENCES articles (id),
		rev               integer NOT NULL, -- 1 for the first version
		title             text NOT NULL,
		published         timestamptz,
		content_hash      text NOT NULL,
		extractor_version text NOT NULL,
		seen_from         timestamptz NOT NULL, -- fetched_at of the version's first record
		seen_until        timestamptz NOT NULL, -- fetched_at of the record that replaced it
		record            jsonb NOT NULL,
		PRIMARY KEY (article_id, rev)
	);`,
}

// OpenPostgres connects to the PostgreSQL database of the DSN (a URL or
// key=value string; search_path may be set in it) and migrates the schema.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: parse DSN: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, classifyPostgres("open postgres", err)
	}
	p := &Postgres{pool: pool}
	if err := p.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

// migrate applies the migrations that the schema lacks, in one transaction
// holding an advisory lock, so that processes opening the store at once
// apply each migration exactly once.
func (p *Postgres) migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, pgMigrateLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, pgSchemaTables); err != nil {
			return err
		}
		var version int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
			return err
		}
		if version > len(postgresSchema) {
			return fmt.Errorf("schema version %d is newer than this binary's %d", version, len(postgresSchema))
		}
		for v := version + 1; v <= len(postgresSchema); v++ {
			if _, err := tx.Exec(ctx, postgresSchema[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		return nil
	})
	if err != nil {
		return classifyPostgres("migrate postgres", err)
	}
	return nil
}

// Upsert writes a batch in one transaction. See the package documentation
// for the rules and the errors.
func (p *Postgres) Upsert(ctx context.Context, batch []process.Article) (UpsertStats, error) {
	if err := validateBatch(batch); err != nil {
		return UpsertStats{}, fmt.Errorf("store: upsert: %w", err)
	}
	if len(batch) == 0 {
		return UpsertStats{}, nil
	}
	var stats UpsertStats
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, pgUpsertLock); err != nil {
			return err
		}
		var err error
		stats, err = upsertBatch(ctx, postgresTx{tx}, batch)
		return err
	})
	if err != nil {
		if fault.IsPermanent(err) {
			return UpsertStats{}, fmt.Errorf("store: upsert: %w", err)
		}
		return UpsertStats{}, classifyPostgres("upsert", err)
	}
	return stats, nil
}

// postgresTx implements upsertTx.
type postgresTx struct{ tx pgx.Tx }

func (t postgresTx) lookup(ctx context.Context, ids []string) (map[string]current, error) {
	rows, err := t.tx.Query(ctx, `SELECT `+currentColumns+` FROM articles WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]current, len(ids))
	err = scanCurrentPG(rows, func(c current) { out[c.id] = c })
	return out, err
}

func (t postgresTx) aliases(ctx context.Context, keys []string) ([]storedAlias, error) {
	rows, err := t.tx.Query(ctx, `SELECT url, url_key, article_id FROM article_aliases WHERE url_key = ANY($1)
		ORDER BY first_seen DESC`, keys)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storedAlias
	for rows.Next() {
		var a storedAlias
		if err := rows.Scan(&a.url, &a.key, &a.id); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (t postgresTx) candidates(ctx context.Context, values [bandCount][]int64, near func(uint64) bool) ([]current, error) {
	// A UNION of one indexed lookup per band, rather than an OR.
	rows, err := t.tx.Query(ctx, `
		SELECT `+currentColumns+` FROM articles WHERE fp_band0 = ANY($1::integer[])
		UNION SELECT `+currentColumns+` FROM articles WHERE fp_band1 = ANY($2::integer[])
		UNION SELECT `+currentColumns+` FROM articles WHERE fp_band2 = ANY($3::integer[])
		UNION SELECT `+currentColumns+` FROM articles WHERE fp_band3 = ANY($4::integer[])`,
		values[0], values[1], values[2], values[3])
	if err != nil {
		return nil, err
	}
	var out []current
	err = scanCurrentPG(rows, func(c current) {
		if fp, err := parseFingerprint(c.fingerprint); err == nil && near(fp) {
			out = append(out, c)
		}
	})
	return out, err
}

// scanCurrentPG reads rows of currentColumns, calls fn with each, and
// closes rows.
func scanCurrentPG(rows pgx.Rows, fn func(current)) error {
	defer rows.Close()
	for rows.Next() {
		var c current
		var published *time.Time
		var fingerprint, dup *string
		if err := rows.Scan(&c.id, &c.seq, &c.url, &c.title, &published, &c.contentHash, &c.extractorVersion,
			&fingerprint, &dup, &c.fetchedAt); err != nil {
			return err
		}
		if published != nil {
			c.published = *published
		}
		if fingerprint != nil {
			c.fingerprint = *fingerprint
		}
		if dup != nil {
			c.duplicateOf = *dup
		}
		fn(c)
	}
	return rows.Err()
}

const (
	pgInsert = `INSERT INTO articles (id, url, feed, title, published, fetched_at, first_seen,
			language, content_hash, extractor_version, fingerprint, fp_band0, fp_band1, fp_band2, fp_band3,
			duplicate_of, record)
		VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`
	pgUpdate = `UPDATE articles SET url = $2, feed = $3, title = $4, published = $5, fetched_at = $6,
			language = $7, content_hash = $8, extractor_version = $9, fingerprint = $10,
			fp_band0 = $11, fp_band1 = $12, fp_band2 = $13, fp_band3 = $14, duplicate_of = $15, record = $16,
			revised_at = COALESCE($17, revised_at)
		WHERE id = $1`
	// pgRevise keeps the stored version of article $1 as its next
	// revision, replaced by a record fetched at $2.
	pgRevise = `INSERT INTO article_revisions (article_id, rev, title, published, content_hash,
			extractor_version, seen_from, seen_until, record)
		SELECT id, (SELECT COALESCE(MAX(rev), 0) + 1 FROM article_revisions WHERE article_id = $1), title, published,
			content_hash, extractor_version, COALESCE(revised_at, first_seen), $2, record
		FROM articles WHERE id = $1`
	pgAddAlias = `INSERT INTO article_aliases (url, url_key, article_id, first_seen) VALUES ($1, $2, $3, $4)
		ON CONFLICT (url) DO NOTHING`
)

// write sends every write in one pipelined batch: one round trip.
func (t postgresTx) write(ctx context.Context, ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	var b pgx.Batch
	type queued struct {
		o    *op
		what string
	}
	var whats []queued
	for i := range ops {
		o := &ops[i]
		a := o.a
		if o.revision {
			b.Queue(pgRevise, a.ID, a.FetchedAt)
			whats = append(whats, queued{o, "keep a revision of"})
		}
		if !o.aliasOnly {
			if o.insert {
				b.Queue(pgInsert, a.ID, a.URL, a.Feed, a.Title, pgNullTime(a.Published), a.FetchedAt,
					a.Language, a.ContentHash, a.ExtractorVersion, nullString(a.Fingerprint),
					bandArg(o, 0), bandArg(o, 1), bandArg(o, 2), bandArg(o, 3),
					nullString(a.DuplicateOf), string(o.record))
				whats = append(whats, queued{o, "insert"})
			} else {
				b.Queue(pgUpdate, a.ID, a.URL, a.Feed, a.Title, pgNullTime(a.Published), a.FetchedAt,
					a.Language, a.ContentHash, a.ExtractorVersion, nullString(a.Fingerprint),
					bandArg(o, 0), bandArg(o, 1), bandArg(o, 2), bandArg(o, 3),
					nullString(a.DuplicateOf), string(o.record), revisedAt(o, a.FetchedAt))
				whats = append(whats, queued{o, "update"})
			}
		}
		for _, al := range o.aliases {
			b.Queue(pgAddAlias, al.url, al.key, a.ID, a.FetchedAt)
			whats = append(whats, queued{o, "add an address of"})
		}
	}
	results := t.tx.SendBatch(ctx, &b)
	for _, q := range whats {
		if _, err := results.Exec(); err != nil {
			results.Close()
			return fmt.Errorf("%s article %q: %w", q.what, q.o.a.ID, invalidData(q.o, err))
		}
	}
	return results.Close()
}

// invalidData turns PostgreSQL's rejection of the row's data (class 22,
// data exception) into an *InvalidArticleError: retrying cannot help.
// Validate catches the known cases first; this is the net under it.
func invalidData(o *op, err error) error {
	// Class 22 (data exception) and 54 (program limit exceeded, such as an
	// index row too large for a very long URL) are the article's own.
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok && len(pe.Code) == 5 && (pe.Code[:2] == "22" || pe.Code[:2] == "54") {
		return &InvalidArticleError{ID: o.a.ID, Index: o.index, Field: "record", Err: err}
	}
	return err
}

// Get returns the article with the id, or an error wrapping ErrNotFound.
func (p *Postgres) Get(ctx context.Context, id string) (process.Article, error) {
	var record []byte
	err := p.pool.QueryRow(ctx, `SELECT record FROM articles WHERE id = $1`, id).Scan(&record)
	if errors.Is(err, pgx.ErrNoRows) {
		return process.Article{}, fmt.Errorf("store: get %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return process.Article{}, classifyPostgres(fmt.Sprintf("get %q", id), err)
	}
	return decodeRecord(id, record)
}

// Each calls fn for every article in (fetched_at, id) order, from one
// query (one snapshot). It stops at the first error fn returns and returns
// it unwrapped. fetched_at is ordered at PostgreSQL's microsecond precision.
func (p *Postgres) Each(ctx context.Context, fn func(process.Article) error) error {
	rows, err := p.pool.Query(ctx, `SELECT id, record FROM articles ORDER BY fetched_at, id`)
	if err != nil {
		return classifyPostgres("each", err)
	}
	defer rows.Close()
	return eachRecord(rows, classifyPostgres, fn)
}

// Count returns the number of stored articles.
func (p *Postgres) Count(ctx context.Context) (int, error) {
	var n int
	if err := p.pool.QueryRow(ctx, `SELECT COUNT(*) FROM articles`).Scan(&n); err != nil {
		return 0, classifyPostgres("count", err)
	}
	return n, nil
}

// firstSeen returns the first_seen column of the article (for tests).
func (p *Postgres) firstSeen(ctx context.Context, id string) (time.Time, error) {
	var t time.Time
	err := p.pool.QueryRow(ctx, `SELECT first_seen FROM articles WHERE id = $1`, id).Scan(&t)
	return t, err
}

// Ping checks that the database answers, for readiness probes.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return classifyPostgres("ping", err)
	}
	return nil
}

// Close closes the connections.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// classifyPostgres wraps err with op, as a *TemporaryError when it is a
// serialization failure, a deadlock, a lock timeout, a shortage of server
// resources, a server shutting down, or a failed or closed connection.
// A context error is left as it is: cancelled is not temporary, an expired
// deadline is (context.DeadlineExceeded says so itself).
func classifyPostgres(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch class := pe.Code[:min(2, len(pe.Code))]; {
		case pe.Code == "40001", // serialization_failure
			pe.Code == "40P01", // deadlock_detected
			pe.Code == "55P03", // lock_not_available
			pe.Code == "23505", // unique_violation: a concurrent insert by a writer without the lock
			pe.Code == "25006", // read_only_sql_transaction: a replica, as during a failover
			class == "08",      // connection exception
			class == "58",      // system error (I/O)
			class == "53",      // insufficient resources
			class == "57":      // operator intervention (shutdown, cancel)
			return &TemporaryError{Op: op, Err: err}
		}
		return fmt.Errorf("store: %s: %w", op, err)
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) {
		return &TemporaryError{Op: op, Err: err}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

func pgNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
