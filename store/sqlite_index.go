package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// SQLiteIndexSuffix names the full-text index of a SQLite store: a
// database file of its own, next to the store's, named as the store's with
// this suffix. It holds nothing that the store does not: deleted, it is
// built again from the articles.
const SQLiteIndexSuffix = "-search"

// sqliteIndexSchema creates the index: an FTS5 table without content
// (the text is in the store) whose rows can be deleted by rowid, and how
// far it has read the store's changes. FTS5 gathers 16 MB of postings
// before it writes them as a segment, and merges segments 8 at a time.
const sqliteIndexSchema = `
	CREATE TABLE progress (
		id      INTEGER PRIMARY KEY CHECK (id = 1),
		changed INTEGER NOT NULL, -- articles.changed of the last article indexed
		max_seq INTEGER NOT NULL  -- the largest seq indexed
	);
	INSERT INTO progress VALUES (1, 0, 0);
	CREATE VIRTUAL TABLE articles_fts USING fts5 (title, description, text,
		content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
	INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', 16777216);
	INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 8);
	PRAGMA user_version = 1;`

// sqliteIndexBatch is how many articles one transaction of the index adds.
const sqliteIndexBatch = 2000

// sqliteIndexWait is how long a search waits at most for the index to
// take in the articles stored before it began.
const sqliteIndexWait = 10 * time.Second

// sqliteIndex writes the full-text index of a SQLite store in a database
// file of its own, from a goroutine of its own: it reads the articles
// changed since it last ran (articles.changed) and indexes them, so that
// the store's writes neither wait for the index nor share their write lock
// with it, and the index is written on another core. The index lags the
// store by the time it takes to catch up; a search waits for it.
type sqliteIndex struct {
	path string
	w    *sql.DB // the index's writer
	main *sql.DB // the store's readers, the index attached
	wake chan struct{}
	stop context.CancelFunc
	done chan struct{}

	mu  sync.Mutex
	err error // of the last pass, retried
}

// openSQLiteIndex opens (creating it if needed) the index of the store
// whose file is at path and whose last change is storeChanged. An index
// of another store, or of a newer copy of this one (it is ahead of the
// store), is emptied, to be built again. Set main before start.
func openSQLiteIndex(ctx context.Context, path string, storeChanged int64) (*sqliteIndex, error) {
	ipath := path + SQLiteIndexSuffix
	if err := makePrivate(ipath); err != nil {
		return nil, fmt.Errorf("store: open search index %q: %w", ipath, err)
	}
	p := sqliteParams(false)
	p.Set("_txlock", "immediate")
	p.Del("_pragma")
	p.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", SQLiteBusyTimeout.Milliseconds()))
	p.Add("_pragma", "journal_mode(WAL)")
	// What a crash loses, it loses with its progress row: the index is
	// consistent, and it is read again from the store.
	p.Add("_pragma", "synchronous(NORMAL)")
	w, err := sql.Open("sqlite", sqliteDSN(ipath, p))
	if err != nil {
		return nil, fmt.Errorf("store: open search index %q: %w", ipath, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	x := &sqliteIndex{path: ipath, w: w, wake: make(chan struct{}, 1)}
	if err := x.create(ctx, storeChanged); err != nil {
		w.Close()
		return nil, err
	}
	return x, nil
}

// create makes the index's tables, once, or again when the index is
// ahead of the store.
func (x *sqliteIndex) create(ctx context.Context, storeChanged int64) error {
	fail := func(err error) error { return classifySQLite(fmt.Sprintf("create search index %q", x.path), err) }
	tx, err := x.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fail(err)
	}
	if version == 1 {
		var through int64
		if err := tx.QueryRowContext(ctx, `SELECT changed FROM progress`).Scan(&through); err != nil {
			return fail(err)
		}
		if through > storeChanged {
			if _, err := tx.ExecContext(ctx, `DROP TABLE articles_fts; DROP TABLE progress`); err != nil {
				return fail(err)
			}
			version = 0
		}
	}
	if version == 0 {
		if _, err := tx.ExecContext(ctx, sqliteIndexSchema); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// start runs the indexing goroutine until close.
func (x *sqliteIndex) start() {
	ctx, cancel := context.WithCancel(context.Background())
	x.stop, x.done = cancel, make(chan struct{})
	go x.run(ctx)
}

// poke tells the goroutine that articles changed.
func (x *sqliteIndex) poke() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

func (x *sqliteIndex) run(ctx context.Context) {
	defer close(x.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		n, err := x.pass(ctx)
		x.mu.Lock()
		x.err = err
		x.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if err == nil && n == sqliteIndexBatch {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return
		case <-x.wake:
		case <-tick.C:
		}
	}
}

// indexRow is an article to index.
type indexRow struct {
	changed, seq             int64
	title, description, text sql.NullString
}

// pass indexes up to sqliteIndexBatch of the articles changed since the
// last pass, in one transaction of the index, and returns how many.
func (x *sqliteIndex) pass(ctx context.Context) (int, error) {
	var through int64
	if err := x.w.QueryRowContext(ctx, `SELECT changed FROM progress`).Scan(&through); err != nil {
		return 0, classifySQLite("search index: read its progress", err)
	}
	rows, err := x.main.QueryContext(ctx, `SELECT changed, seq, json_extract(record, '$.title'),
		json_extract(record, '$.description'), json_extract(record, '$.text')
		FROM articles WHERE changed > ? ORDER BY changed LIMIT ?`, through, sqliteIndexBatch)
	if err != nil {
		return 0, classifySQLite("search index: read the changed articles", err)
	}
	var batch []indexRow
	for rows.Next() {
		var r indexRow
		if err := rows.Scan(&r.changed, &r.seq, &r.title, &r.description, &r.text); err != nil {
			rows.Close()
			return 0, classifySQLite("search index: read the changed articles", err)
		}
		batch = append(batch, r)
	}
	if err := rows.Err(); err != nil {
		return 0, classifySQLite("search index: read the changed articles", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	return len(batch), x.add(ctx, through, batch)
}

// add indexes batch, read after the article changed through, unless
// another process's index pass came first.
func (x *sqliteIndex) add(ctx context.Context, through int64, batch []indexRow) error {
	fail := func(err error) error { return classifySQLite("search index: add articles", err) }
	tx, err := x.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	var now, maxSeq int64
	if err := tx.QueryRowContext(ctx, `SELECT changed, max_seq FROM progress`).Scan(&now, &maxSeq); err != nil {
		return fail(err)
	}
	if now != through {
		return nil // read again from where it is now
	}
	del, err := tx.PrepareContext(ctx, `DELETE FROM articles_fts WHERE rowid = ?`)
	if err != nil {
		return fail(err)
	}
	defer del.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO articles_fts (rowid, title, description, text) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fail(err)
	}
	defer ins.Close()
	for _, r := range batch {
		if r.seq <= maxSeq {
			// A new version of an article indexed before.
			if _, err := del.ExecContext(ctx, r.seq); err != nil {
				return fail(err)
			}
		}
		if _, err := ins.ExecContext(ctx, r.seq, r.title, r.description, r.text); err != nil {
			return fail(err)
		}
		maxSeq = max(maxSeq, r.seq)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE progress SET changed = ?, max_seq = ?`, batch[len(batch)-1].changed, maxSeq); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return nil
}

// sqliteIndexStall is how long a search in a store that does not write
// the index (read-only, as `articles search` opens it beside a running
// `run`) waits for an index that does not move: no process is writing it.
const sqliteIndexStall = 3 * time.Second

// awaitIndex waits, up to sqliteIndexWait, until the index that r has
// attached holds the articles changed before it was called. x is the
// index when this store writes it: it is told to hurry, and its error is
// returned if it stays behind. Without x the index is another process's,
// waited for while it moves.
func awaitIndex(ctx context.Context, r *sql.DB, x *sqliteIndex) error {
	var target int64
	if err := r.QueryRowContext(ctx, `SELECT COALESCE(MAX(changed), 0) FROM articles`).Scan(&target); err != nil {
		return classifySQLite("search: read the last change", err)
	}
	start := time.Now()
	last, moved := int64(-1), start
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		var through int64
		if err := r.QueryRowContext(ctx, `SELECT changed FROM search.progress`).Scan(&through); err != nil {
			return classifySQLite("search: read the index's progress", err)
		}
		if through >= target {
			return nil
		}
		now := time.Now()
		if through != last {
			last, moved = through, now
		}
		if now.Sub(start) > sqliteIndexWait || (x == nil && now.Sub(moved) > sqliteIndexStall) {
			if x != nil {
				x.mu.Lock()
				defer x.mu.Unlock()
				if x.err != nil {
					return fmt.Errorf("store: search: the index is behind the store: %w", x.err)
				}
			}
			return nil // search what it holds
		}
		if x != nil {
			x.poke()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
}

// halt stops the goroutine.
func (x *sqliteIndex) halt() {
	if x.stop != nil {
		x.stop()
		<-x.done
		x.stop = nil
	}
}

// close stops the goroutine and closes the index. Closed after the
// store's readers, it is the index file's last connection, which folds
// the write-ahead log into the file and removes it.
func (x *sqliteIndex) close() error {
	x.halt()
	return x.w.Close()
}

// attachIndex opens the store's readers with the index attached to each
// connection as the schema "search" (read-only), if its file exists.
func attachIndex(dsn, path string) (db *sql.DB, attached bool, err error) {
	ipath := path + SQLiteIndexSuffix
	if _, err := os.Stat(ipath); errors.Is(err, fs.ErrNotExist) {
		db, err := sql.Open("sqlite", dsn)
		return db, false, err
	}
	return sql.OpenDB(indexConnector{dsn: dsn, index: sqliteDSN(ipath, sqliteParams(true))}), true, nil
}

// indexConnector opens connections to a store with its index attached.
type indexConnector struct{ dsn, index string }

func (c indexConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	if _, err := conn.(driver.ExecerContext).ExecContext(ctx, `ATTACH DATABASE ?1 AS search`,
		[]driver.NamedValue{{Ordinal: 1, Value: c.index}}); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func (indexConnector) Driver() driver.Driver { return &sqlite.Driver{} }
