package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/process"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLiteBusyTimeout is how long a SQLite connection waits for a lock held by
// another connection or process before the operation fails (temporarily).
const SQLiteBusyTimeout = 10 * time.Second

// SQLite is a store in one SQLite database file (modernc.org/sqlite, pure
// Go). It uses WAL journaling, so that readers, including other processes
// (see OpenSQLiteReadOnly), never block the writer, and synchronous=FULL, so
// that a committed Upsert survives a power cut: an ack follows a commit.
//
// Writes go through a single connection, so Upserts of one *SQLite run one
// at a time; writers in other processes wait up to SQLiteBusyTimeout.
type SQLite struct {
	path  string
	w     *sql.DB // nil when read-only
	r     *sql.DB
	stmts sqliteStmts
	// version is the schema version: the latest, except in a read-only
	// store that an older newsflow wrote (it can be read, not searched).
	version int
	// index writes the full-text index (nil when read-only); searchable
	// says that the readers have it attached.
	index      *sqliteIndex
	searchable bool
	// drive, when set, overrides filtersDrive (tests of both plans).
	drive *bool
}

// sqliteSchema lists the migrations of the SQLite schema, version i+1 at
// index i. Applied migrations are never edited: add a new one.
var sqliteSchema = []string{
	// 1: articles.
	`CREATE TABLE articles (
		id                TEXT PRIMARY KEY,
		seq               INTEGER NOT NULL UNIQUE, -- insertion order
		url               TEXT NOT NULL,
		feed              TEXT NOT NULL,
		title             TEXT NOT NULL,
		published         TEXT,          -- UTC, fixed-width RFC 3339 with nanoseconds
		fetched_at        TEXT NOT NULL, -- of the stored record
		first_seen        TEXT NOT NULL, -- fetched_at of the first record
		language          TEXT NOT NULL,
		content_hash      TEXT NOT NULL,
		extractor_version TEXT NOT NULL,
		fingerprint       TEXT,
		fp_band0          INTEGER,       -- the 16-bit bands of fingerprint
		fp_band1          INTEGER,
		fp_band2          INTEGER,
		fp_band3          INTEGER,
		duplicate_of      TEXT REFERENCES articles (id),
		record            TEXT NOT NULL  -- the Article as JSON
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
	sqliteSearchMigration,
	// 3: the addresses and earlier versions of an article.
	`ALTER TABLE articles ADD COLUMN revised_at TEXT; -- fetched_at of the current version's first record; NULL: first_seen
	CREATE TABLE article_aliases (
		url        TEXT PRIMARY KEY, -- as seen, without tracking parameters (metadata.TrimURL)
		url_key    TEXT NOT NULL,    -- metadata.URLKey of url
		article_id TEXT NOT NULL REFERENCES articles (id),
		first_seen TEXT NOT NULL
	);
	CREATE INDEX article_aliases_url_key ON article_aliases (url_key);
	CREATE INDEX article_aliases_article ON article_aliases (article_id, first_seen);
	CREATE TABLE article_revisions (
		article_id        TEXT NOT NULL REFERENCES articles (id),
		rev               INTEGER NOT NULL, -- 1 for the first version
		title             TEXT NOT NULL,
		published         TEXT,
		content_hash      TEXT NOT NULL,
		extractor_version TEXT NOT NULL,
		seen_from         TEXT NOT NULL,    -- fetched_at of the version's first record
		seen_until        TEXT NOT NULL,    -- fetched_at of the record that replaced it
		record            TEXT NOT NULL,
		PRIMARY KEY (article_id, rev)
	);`,
	// 4: faster writes.
	sqliteFastWriteMigration,
	// 5: cheaper indexing.
	sqliteIndexTuneMigration,
	// 6: the near-duplicate lookup reads the band indexes alone.
	`DROP INDEX articles_fp_band0;
	DROP INDEX articles_fp_band1;
	DROP INDEX articles_fp_band2;
	DROP INDEX articles_fp_band3;
	CREATE INDEX articles_fp_band0 ON articles (fp_band0, fingerprint) WHERE fp_band0 IS NOT NULL;
	CREATE INDEX articles_fp_band1 ON articles (fp_band1, fingerprint) WHERE fp_band1 IS NOT NULL;
	CREATE INDEX articles_fp_band2 ON articles (fp_band2, fingerprint) WHERE fp_band2 IS NOT NULL;
	CREATE INDEX articles_fp_band3 ON articles (fp_band3, fingerprint) WHERE fp_band3 IS NOT NULL;`,
	// 7: the full-text index moves to a file of its own (see sqliteIndex).
	sqliteIndexFileMigration,
}

// sqliteIndexFileVersion is the first schema version with the search
// index in a file of its own.
const sqliteIndexFileVersion = 7

// sqliteDSN returns the modernc.org/sqlite data source name of the file at
// path, as a file: URI so that SQLite's own parameters (mode) apply.
func sqliteDSN(path string, params url.Values) string {
	u := url.URL{Path: filepath.ToSlash(path)}
	return "file:" + u.EscapedPath() + "?" + params.Encode()
}

func sqliteParams(readOnly bool) url.Values {
	p := url.Values{}
	// busy_timeout first: it makes the other pragmas wait for locks too.
	p.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", SQLiteBusyTimeout.Milliseconds()))
	if readOnly {
		p.Set("mode", "ro")
		p.Add("_pragma", "query_only(1)")
	} else {
		p.Add("_pragma", "journal_mode(WAL)")
		p.Add("_pragma", "synchronous(FULL)")
	}
	p.Add("_pragma", "foreign_keys(1)")
	return p
}

// OpenSQLite opens the SQLite store at path for reading and writing,
// creating the file and its folder if needed, and migrates its schema.
// SQLite can answer "busy" at once, without waiting out busy_timeout, when
// several processes switch a new file to WAL together: such a temporary
// failure is retried a few times before it is returned.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		s, err := openSQLite(ctx, path)
		if err == nil || attempt == 5 || !fault.IsTemporary(err) {
			return s, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func openSQLite(ctx context.Context, path string) (*SQLite, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	if err := makePrivate(abs); err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	s := &SQLite{path: abs, version: len(sqliteSchema)}

	wp := sqliteParams(false)
	wp.Set("_txlock", "immediate") // take the write lock at BEGIN: no upgrade deadlocks
	s.w, err = sql.Open("sqlite", sqliteDSN(abs, wp))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)

	if err := s.migrate(ctx); err != nil {
		s.w.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.w.Close()
		return nil, err
	}

	var changed int64
	if err := s.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(changed), 0) FROM articles`).Scan(&changed); err != nil {
		s.w.Close()
		return nil, classifySQLite(fmt.Sprintf("open sqlite %q: read the last change", path), err)
	}
	if s.index, err = openSQLiteIndex(ctx, abs, changed); err != nil {
		s.w.Close()
		return nil, err
	}
	s.r, s.searchable, err = attachIndex(sqliteDSN(abs, sqliteParams(false)), abs)
	if err != nil {
		s.index.close()
		s.w.Close()
		return nil, fmt.Errorf("store: open sqlite %q: %w", path, err)
	}
	s.r.SetMaxOpenConns(4)
	s.index.main = s.r
	s.index.start()
	return s, nil
}

// makePrivate creates the database file with mode 0600 if it does not
// exist, and takes the group's and others' access away from an existing one
// and its -wal and -shm files: SQLite gives those the mode of the database.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, fi.Mode().Perm()&0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// OpenSQLiteReadOnly opens an existing SQLite store for reading only, as
// export does while another process writes: WAL lets it read a consistent
// snapshot without blocking the writer. It does not migrate: a database of
// an older schema can be read with Get and Each, and searched once a
// writer has opened it.
func OpenSQLiteReadOnly(ctx context.Context, path string) (*SQLite, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q read-only: %w", path, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("store: open sqlite %q read-only: %w", path, err)
	}
	r, searchable, err := attachIndex(sqliteDSN(abs, sqliteParams(true)), abs)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %q read-only: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	var version int
	err = r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version)
	if err != nil {
		r.Close()
		return nil, classifySQLite(fmt.Sprintf("open sqlite %q read-only: read schema version", path), err)
	}
	if version < 1 || version > len(sqliteSchema) {
		r.Close()
		return nil, fmt.Errorf("store: open sqlite %q read-only: schema version %d, this binary knows 1 to %d", path, version, len(sqliteSchema))
	}
	return &SQLite{path: abs, r: r, version: version, searchable: searchable}, nil
}

// migrate applies the migrations that the database lacks, in one
// transaction that holds the write lock, so that processes opening the
// store at once apply each migration exactly once.
func (s *SQLite) migrate(ctx context.Context) error {
	fail := func(err error) error {
		return classifySQLite(fmt.Sprintf("migrate sqlite %q", s.path), err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fail(err)
	}
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return fail(err)
	}
	if version > len(sqliteSchema) {
		return fmt.Errorf("store: migrate sqlite %q: schema version %d is newer than this binary's %d", s.path, version, len(sqliteSchema))
	}
	for v := version + 1; v <= len(sqliteSchema); v++ {
		if _, err := tx.ExecContext(ctx, sqliteSchema[v-1]); err != nil {
			return fail(fmt.Errorf("migration %d: %w", v, err))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			v, sqliteTime(time.Now())); err != nil {
			return fail(fmt.Errorf("migration %d: %w", v, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// Upsert writes a batch in one transaction. See the package documentation
// for the rules and the errors.
func (s *SQLite) Upsert(ctx context.Context, batch []process.Article) (UpsertStats, error) {
	if s.w == nil {
		return UpsertStats{}, fmt.Errorf("store: upsert into sqlite %q: opened read-only", s.path)
	}
	if err := validateBatch(batch); err != nil {
		return UpsertStats{}, fmt.Errorf("store: upsert: %w", err)
	}
	if len(batch) == 0 {
		return UpsertStats{}, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return UpsertStats{}, classifySQLite("upsert: begin", err)
	}
	defer tx.Rollback()
	stats, err := upsertBatch(ctx, sqliteTx{tx: tx, stmts: &s.stmts}, batch)
	if err != nil {
		if fault.IsPermanent(err) {
			return UpsertStats{}, fmt.Errorf("store: upsert: %w", err)
		}
		return UpsertStats{}, classifySQLite("upsert", err)
	}
	if err := tx.Commit(); err != nil {
		return UpsertStats{}, classifySQLite("upsert: commit", err)
	}
	s.index.poke()
	return stats, nil
}

// SQL of the upsert, prepared once on the writer connection.
const (
	sqliteLookup  = `SELECT ` + currentColumns + ` FROM articles WHERE id IN (SELECT value FROM json_each(?))`
	sqliteAliases = `SELECT url, url_key, article_id FROM article_aliases WHERE url_key IN (SELECT value FROM json_each(?))
		ORDER BY first_seen DESC`
	// A UNION of one indexed lookup per band, rather than an OR, so that
	// each arm uses its band's index, which holds the fingerprint too:
	// only the rows of the near ones are then read.
	sqliteCandidates = `
		SELECT rowid, fingerprint FROM articles WHERE fp_band0 IN (SELECT value FROM json_each(?1))
		UNION SELECT rowid, fingerprint FROM articles WHERE fp_band1 IN (SELECT value FROM json_each(?2))
		UNION SELECT rowid, fingerprint FROM articles WHERE fp_band2 IN (SELECT value FROM json_each(?3))
		UNION SELECT rowid, fingerprint FROM articles WHERE fp_band3 IN (SELECT value FROM json_each(?4))`
	sqliteCandidateRows = `SELECT ` + currentColumns + ` FROM articles WHERE rowid IN (SELECT value FROM json_each(?))`
	// The last seq and the last change number (see sqliteIndex).
	// (Two subqueries: one MAX each reads one end of its index.)
	sqliteMaxSeq = `SELECT (SELECT COALESCE(MAX(seq), 0) FROM articles), (SELECT COALESCE(MAX(changed), 0) FROM articles)`
	sqliteInsert = `INSERT INTO articles (id, url, feed, title, published, fetched_at, first_seen,
			language, content_hash, extractor_version, fingerprint, fp_band0, fp_band1, fp_band2, fp_band3,
			duplicate_of, record, changed, seq)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)`
	sqliteUpdate = `UPDATE articles SET url = ?2, feed = ?3, title = ?4, published = ?5, fetched_at = ?6,
			language = ?7, content_hash = ?8, extractor_version = ?9, fingerprint = ?10,
			fp_band0 = ?11, fp_band1 = ?12, fp_band2 = ?13, fp_band3 = ?14, duplicate_of = ?15, record = ?16,
			changed = ?17, revised_at = COALESCE(?18, revised_at)
		WHERE id = ?1`
	// sqliteRevise keeps the stored version of article ?1 as its next
	// revision, replaced by a record fetched at ?2.
	sqliteRevise = `INSERT INTO article_revisions (article_id, rev, title, published, content_hash,
			extractor_version, seen_from, seen_until, record)
		SELECT id, (SELECT COALESCE(MAX(rev), 0) + 1 FROM article_revisions WHERE article_id = ?1), title, published,
			content_hash, extractor_version, COALESCE(revised_at, first_seen), ?2, record
		FROM articles WHERE id = ?1`
	sqliteAddAlias = `INSERT INTO article_aliases (url, url_key, article_id, first_seen) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (url) DO NOTHING`
)

// sqliteStmts are the prepared statements of the upsert.
type sqliteStmts struct {
	lookup, aliases, candidates, candidateRows, maxSeq, insert, update, revise, addAlias *sql.Stmt
}

// all returns the statements, for Close.
func (st *sqliteStmts) all() []*sql.Stmt {
	return []*sql.Stmt{st.lookup, st.aliases, st.candidates, st.candidateRows, st.maxSeq, st.insert, st.update, st.revise,
		st.addAlias}
}

func (s *SQLite) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.stmts.lookup, sqliteLookup},
		{&s.stmts.aliases, sqliteAliases},
		{&s.stmts.candidates, sqliteCandidates},
		{&s.stmts.candidateRows, sqliteCandidateRows},
		{&s.stmts.maxSeq, sqliteMaxSeq},
		{&s.stmts.insert, sqliteInsert},
		{&s.stmts.update, sqliteUpdate},
		{&s.stmts.revise, sqliteRevise},
		{&s.stmts.addAlias, sqliteAddAlias},
	} {
		stmt, err := s.w.PrepareContext(ctx, p.sql)
		if err != nil {
			return classifySQLite(fmt.Sprintf("open sqlite %q: prepare", s.path), err)
		}
		*p.stmt = stmt
	}
	return nil
}

// sqliteTx implements upsertTx.
type sqliteTx struct {
	tx    *sql.Tx
	stmts *sqliteStmts
}

func (t sqliteTx) lookup(ctx context.Context, ids []string) (map[string]current, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.StmtContext(ctx, t.stmts.lookup).QueryContext(ctx, string(list))
	if err != nil {
		return nil, err
	}
	out := make(map[string]current, len(ids))
	err = scanCurrent(rows, func(c current) { out[c.id] = c })
	return out, err
}

func (t sqliteTx) aliases(ctx context.Context, keys []string) ([]storedAlias, error) {
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	rows, err := t.tx.StmtContext(ctx, t.stmts.aliases).QueryContext(ctx, string(list))
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

func (t sqliteTx) candidates(ctx context.Context, values [bandCount][]int64, near func(uint64) bool) ([]current, error) {
	var args [bandCount]any
	for i, v := range values {
		list, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		args[i] = string(list)
	}
	rows, err := t.tx.StmtContext(ctx, t.stmts.candidates).QueryContext(ctx, args[:]...)
	if err != nil {
		return nil, err
	}
	var keep []int64
	for rows.Next() {
		var rowid int64
		var fingerprint string
		if err := rows.Scan(&rowid, &fingerprint); err != nil {
			rows.Close()
			return nil, err
		}
		if fp, err := parseFingerprint(fingerprint); err == nil && near(fp) {
			keep = append(keep, rowid)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(keep) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(keep)
	if err != nil {
		return nil, err
	}
	if rows, err = t.tx.StmtContext(ctx, t.stmts.candidateRows).QueryContext(ctx, string(list)); err != nil {
		return nil, err
	}
	var out []current
	err = scanCurrent(rows, func(c current) { out = append(out, c) })
	return out, err
}

// currentColumns are the columns that scanCurrent reads.
const currentColumns = `id, seq, url, title, published, content_hash, extractor_version, fingerprint, duplicate_of, fetched_at`

// scanCurrent reads rows of currentColumns, calls fn with each, and
// closes rows.
func scanCurrent(rows *sql.Rows, fn func(current)) error {
	defer rows.Close()
	for rows.Next() {
		var c current
		var fetched string
		var published, fingerprint, dup sql.NullString
		if err := rows.Scan(&c.id, &c.seq, &c.url, &c.title, &published, &c.contentHash, &c.extractorVersion,
			&fingerprint, &dup, &fetched); err != nil {
			return err
		}
		c.fingerprint, c.duplicateOf = fingerprint.String, dup.String
		var err error
		if c.fetchedAt, err = time.Parse(time.RFC3339Nano, fetched); err != nil {
			return fmt.Errorf("article %q: stored fetched_at %q: %w", c.id, fetched, err)
		}
		if published.Valid {
			if c.published, err = time.Parse(time.RFC3339Nano, published.String); err != nil {
				return fmt.Errorf("article %q: stored published %q: %w", c.id, published.String, err)
			}
		}
		fn(c)
	}
	return rows.Err()
}

func (t sqliteTx) write(ctx context.Context, ops []op) error {
	insert := t.tx.StmtContext(ctx, t.stmts.insert)
	update := t.tx.StmtContext(ctx, t.stmts.update)
	revise := t.tx.StmtContext(ctx, t.stmts.revise)
	addAlias := t.tx.StmtContext(ctx, t.stmts.addAlias)
	// New rows take the seqs after the largest stored one, in batch
	// order; seqs maps the planned seq of a row the batch inserts (newSeq
	// and up) to its own, for a later update of it in the same batch.
	// Every row written takes the next change number, for the index.
	var next, changed int64
	if err := t.tx.StmtContext(ctx, t.stmts.maxSeq).QueryRowContext(ctx).Scan(&next, &changed); err != nil {
		return fmt.Errorf("read the last seq: %w", err)
	}
	seqs := map[int64]int64{}
	for i := range ops {
		o := &ops[i]
		a := o.a
		if o.revision {
			if _, err := revise.ExecContext(ctx, a.ID, sqliteTime(a.FetchedAt)); err != nil {
				return fmt.Errorf("keep a revision of article %q: %w", a.ID, err)
			}
		}
		if !o.aliasOnly {
			seq := o.seq
			if s, ok := seqs[seq]; ok {
				seq = s
			}
			stmt, what := update, "update"
			args := []any{a.ID, a.URL, a.Feed, a.Title, sqliteNullTime(a.Published), sqliteTime(a.FetchedAt),
				a.Language, a.ContentHash, a.ExtractorVersion, nullString(a.Fingerprint),
				bandArg(o, 0), bandArg(o, 1), bandArg(o, 2), bandArg(o, 3),
				nullString(a.DuplicateOf), string(o.record)}
			changed++
			if o.insert {
				next++
				seqs[o.seq], seq = next, next
				stmt, what = insert, "insert"
				args = append(args, changed, seq)
			} else {
				args = append(args, changed, revisedAt(o, sqliteTime(a.FetchedAt)))
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("%s article %q: %w", what, a.ID, err)
			}
		}
		for _, al := range o.aliases {
			if _, err := addAlias.ExecContext(ctx, al.url, al.key, a.ID, sqliteTime(a.FetchedAt)); err != nil {
				return fmt.Errorf("add address %q of article %q: %w", al.url, a.ID, err)
			}
		}
	}
	return nil
}

// revisedAt is the revised_at argument of an update: the record's fetch
// time when it starts a new version, else nil (the column is kept).
func revisedAt(o *op, fetched any) any {
	if o.revision {
		return fetched
	}
	return nil
}

// Get returns the article with the id, or an error wrapping ErrNotFound.
func (s *SQLite) Get(ctx context.Context, id string) (process.Article, error) {
	var record []byte
	err := s.r.QueryRowContext(ctx, `SELECT record FROM articles WHERE id = ?`, id).Scan(&record)
	if errors.Is(err, sql.ErrNoRows) {
		return process.Article{}, fmt.Errorf("store: get %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return process.Article{}, classifySQLite(fmt.Sprintf("get %q", id), err)
	}
	return decodeRecord(id, record)
}

// Each calls fn for every article in (fetched_at, id) order, reading one
// snapshot of the database: writes committed meanwhile are not seen. It
// stops at the first error fn returns and returns it unwrapped.
func (s *SQLite) Each(ctx context.Context, fn func(process.Article) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT id, record FROM articles ORDER BY fetched_at, id`)
	if err != nil {
		return classifySQLite("each", err)
	}
	defer rows.Close()
	return eachRecord(rows, classifySQLite, fn)
}

// Count returns the number of stored articles.
func (s *SQLite) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM articles`).Scan(&n); err != nil {
		return 0, classifySQLite("count", err)
	}
	return n, nil
}

// firstSeen returns the first_seen column of the article (for tests).
func (s *SQLite) firstSeen(ctx context.Context, id string) (time.Time, error) {
	var v string
	if err := s.r.QueryRowContext(ctx, `SELECT first_seen FROM articles WHERE id = ?`, id).Scan(&v); err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, v)
}

// Ping checks that the database file can be read, for readiness probes.
func (s *SQLite) Ping(ctx context.Context) error {
	return s.r.PingContext(ctx)
}

// Close closes the database.
func (s *SQLite) Close() error {
	var errs []error
	if s.index != nil {
		s.index.halt() // it reads through s.r
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.index != nil {
		errs = append(errs, s.index.close())
	}
	for _, stmt := range s.stmts.all() {
		if stmt != nil {
			errs = append(errs, stmt.Close())
		}
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close sqlite %q: %w", s.path, err)
	}
	return nil
}

// classifySQLite wraps err with op, as a *TemporaryError when SQLite was
// busy or locked by another connection.
func classifySQLite(op string, err error) error {
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_PROTOCOL,
			// The disk, not the article: full, failing, or read-only for now.
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN:
			return &TemporaryError{Op: op, Err: err}
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// sqliteTimeLayout writes UTC times at a fixed width, so that text order is
// time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000000Z"

func sqliteTime(t time.Time) string { return t.UTC().Format(sqliteTimeLayout) }

func sqliteNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return sqliteTime(t)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func bandArg(o *op, i int) any {
	if !o.hasFP {
		return nil
	}
	return o.bands[i]
}
