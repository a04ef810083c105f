package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/process"
)

func openTestSQLite(t testing.TB) *SQLite {
	t.Helper()
	s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "data", "newsflow.db"))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSQLite(t *testing.T) {
	testStore(t, func(t *testing.T) store { return openTestSQLite(t) })
}

func BenchmarkUpsert(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkUpsert(b, openTestSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchmarkUpsert(b, openTestPostgres(b)) })
}

func TestSQLitePragmas(t *testing.T) {
	s := openTestSQLite(t)
	for _, tt := range []struct {
		db     *sql.DB
		name   string
		pragma string
		want   string
	}{
		{s.w, "writer", "journal_mode", "wal"},
		{s.w, "writer", "synchronous", "2"}, // FULL
		{s.w, "writer", "foreign_keys", "1"},
		{s.w, "writer", "busy_timeout", strconv.FormatInt(SQLiteBusyTimeout.Milliseconds(), 10)},
		{s.r, "reader", "journal_mode", "wal"},
		{s.r, "reader", "foreign_keys", "1"},
		{s.r, "reader", "busy_timeout", strconv.FormatInt(SQLiteBusyTimeout.Milliseconds(), 10)},
	} {
		var got string
		if err := tt.db.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", tt.name, tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("%s: PRAGMA %s = %q, want %q", tt.name, tt.pragma, got, tt.want)
		}
	}
}

func TestSQLiteCreatesFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "c", "news.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

func TestSQLiteOddPath(t *testing.T) {
	// Characters that mean something in a file: URI.
	path := filepath.Join(t.TempDir(), "what?#100% news", "db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustUpsert(t, s, sampleArticle("odd", 0))
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
	ro, err := OpenSQLiteReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	mustCount(t, ro, 1)
}

func TestSQLiteConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news.db")
	const n = 6
	stores := make([]*SQLite, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := OpenSQLite(t.Context(), path)
			if err != nil {
				t.Errorf("open %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			defer s.Close()
		}
	}
	if t.Failed() {
		return
	}
	var rows int
	if err := stores[0].r.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(sqliteSchema) {
		t.Errorf("schema_migrations has %d rows, want %d", rows, len(sqliteSchema))
	}
	// Every one of them can write.
	for i, s := range stores {
		mustUpsert(t, s, sampleArticle(fmt.Sprintf("s%d", i), i))
	}
	mustCount(t, stores[0], n)
}

func TestSQLiteNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 'later')`, len(sqliteSchema)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := OpenSQLite(t.Context(), path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("OpenSQLite of a newer schema: error %v, want one saying it is newer", err)
		if s != nil {
			s.Close()
		}
	}
	if s, err := OpenSQLiteReadOnly(t.Context(), path); err == nil {
		t.Error("OpenSQLiteReadOnly of a newer schema succeeded")
		s.Close()
	}
}

func TestSQLiteReadOnlyMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.db")
	if s, err := OpenSQLiteReadOnly(t.Context(), path); err == nil {
		s.Close()
		t.Fatal("OpenSQLiteReadOnly of a missing file succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenSQLiteReadOnly created %s (stat: %v)", path, err)
	}
}

func TestSQLiteReadOnlyRejectsWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, sampleArticle("a", 0))
	s.Close()
	ro, err := OpenSQLiteReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Upsert(t.Context(), []process.Article{sampleArticle("b", 1)}); err == nil {
		t.Error("Upsert on a read-only store succeeded")
	}
	if _, err := ro.r.Exec(`DELETE FROM articles`); err == nil {
		t.Error("a write through the read-only connection succeeded")
	}
	mustCount(t, ro, 1)
	wantStored(t, ro, sampleArticle("a", 0))
}

// TestSQLiteReadOnlyWhileWriting reads through a read-only store while
// another connection of the same process writes.
func TestSQLiteReadOnlyWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news.db")
	w, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mustUpsert(t, w, sampleArticle("first", 0))
	ro, err := OpenSQLiteReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()

	const batches, size = 20, 25
	done := make(chan error, 1)
	go func() {
		for b := range batches {
			var batch []process.Article
			for i := range size {
				batch = append(batch, sampleArticle(fmt.Sprintf("w%02d-%02d", b, i), 1+b*size+i))
			}
			if _, err := w.Upsert(context.Background(), batch); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	readUntil(t, ro, done, 1+batches*size)
}

// readUntil reads from ro while a writer runs, checking that reads succeed,
// counts only grow and Each agrees with Count, until the writer reports on
// done; then ro must see all want articles.
func readUntil(t *testing.T, ro *SQLite, done <-chan error, want int) {
	t.Helper()
	last, reads, grew := 0, 0, 0
	for writing := true; writing; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
			writing = false
		default:
		}
		n, err := ro.Count(t.Context())
		if err != nil {
			t.Fatalf("read-only Count while writing: %v", err)
		}
		if n < last {
			t.Fatalf("Count went back from %d to %d", last, n)
		}
		if n > last {
			grew++
		}
		last = n
		each := 0
		if err := ro.Each(t.Context(), func(process.Article) error { each++; return nil }); err != nil {
			t.Fatalf("read-only Each while writing: %v", err)
		}
		if each < n {
			t.Fatalf("Each saw %d articles after Count saw %d", each, n)
		}
		reads++
	}
	mustCount(t, ro, want)
	t.Logf("%d reads while writing, %d saw new articles", reads, grew)
}

// TestSQLiteReadOnlyWhileAnotherProcessWrites runs the writer in a child
// process (this test binary, re-executed).
func TestSQLiteReadOnlyWhileAnotherProcessWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	path := filepath.Join(t.TempDir(), "news.db")
	w, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, w, sampleArticle("first", 0))
	w.Close()
	ro, err := OpenSQLiteReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestSQLiteWriterProcess$", "-test.v")
	cmd.Env = append(os.Environ(), writerProcessEnv+"="+path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, out.String())
		}
		done <- err
	}()
	readUntil(t, ro, done, 1+writerProcessBatches*writerProcessSize)
}

const (
	writerProcessEnv     = "NEWSFLOW_STORE_WRITER_PROCESS"
	writerProcessBatches = 30
	writerProcessSize    = 20
)

// TestSQLiteWriterProcess is the child of
// TestSQLiteReadOnlyWhileAnotherProcessWrites; it does nothing otherwise.
func TestSQLiteWriterProcess(t *testing.T) {
	path := os.Getenv(writerProcessEnv)
	if path == "" {
		t.Skip("only runs as a child process")
	}
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for b := range writerProcessBatches {
		var batch []process.Article
		for i := range writerProcessSize {
			batch = append(batch, sampleArticle(fmt.Sprintf("p%02d-%02d", b, i), 1+b*writerProcessSize+i))
		}
		if _, err := s.Upsert(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSQLiteBusyIsTemporary holds the write lock from another connection
// and checks that the error of a writer that cannot get it is temporary.
func TestSQLiteBusyIsTemporary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	p := url.Values{}
	p.Add("_pragma", "busy_timeout(0)")
	p.Set("_txlock", "immediate")
	other, err := sql.Open("sqlite", sqliteDSN(path, p))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(2)
	holder, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.Exec(`DELETE FROM articles`); err != nil {
		t.Fatal(err)
	}
	_, err = other.Begin() // a second connection, no waiting
	if err == nil {
		t.Fatal("second writer got the lock")
	}
	if c := classifySQLite("test", err); !fault.IsTemporary(c) || fault.IsPermanent(c) {
		t.Errorf("busy error %v classified as %v, want temporary", err, c)
	}
	// A plain error stays unclassified.
	if c := classifySQLite("test", errors.New("disk on fire")); fault.IsTemporary(c) || fault.IsPermanent(c) {
		t.Errorf("unknown error classified: %v", c)
	}
}

// TestSQLiteCandidatePlan checks that the near-duplicate lookup reads
// the band indexes alone (migration 6), neither a scan nor the rows.
func TestSQLiteCandidatePlan(t *testing.T) {
	s := openTestSQLite(t)
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+sqliteCandidates, "[1,2]", "[3]", "[4]", "[5]")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	t.Logf("plan:\n%s", text)
	for i := range bandCount {
		if !strings.Contains(text, fmt.Sprintf("COVERING INDEX articles_fp_band%d", i)) {
			t.Errorf("plan does not read articles_fp_band%d alone:\n%s", i, text)
		}
	}
	if strings.Contains(text, "SCAN articles") {
		t.Errorf("plan scans articles:\n%s", text)
	}
}

// TestSQLiteLookupPlan checks that the batch lookup probes the primary key.
func TestSQLiteLookupPlan(t *testing.T) {
	s := openTestSQLite(t)
	var plan []string
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+sqliteLookup, `["a","b"]`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "SEARCH articles USING INDEX sqlite_autoindex_articles_1 (id=?)") {
		t.Errorf("lookup does not probe the primary key:\n%s", text)
	}
}

// TestSQLiteTwoHandlesSameIDs writes the same ids through two stores on one
// file at once, as two processes would: they wait for each other's write
// lock (busy_timeout) and leave one row per id.
func TestSQLiteTwoHandlesSameIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news.db")
	var handles [2]*SQLite
	for i := range handles {
		s, err := OpenSQLite(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		handles[i] = s
	}
	var batch []process.Article
	for i := range 30 {
		batch = append(batch, sampleArticle(fmt.Sprintf("h%02d", i), i))
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		inserted int
	)
	for h, s := range handles {
		for g := range 3 {
			wg.Go(func() {
				for round := range 5 {
					mine := slices.Clone(batch)
					slices.Reverse(mine[(h+g+round)%len(mine):])
					stats, err := s.Upsert(context.Background(), mine)
					if err != nil {
						t.Errorf("handle %d: %v", h, err)
						return
					}
					mu.Lock()
					inserted += stats.Inserted
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if inserted != len(batch) {
		t.Errorf("%d inserts reported, want %d", inserted, len(batch))
	}
	mustCount(t, handles[1], len(batch))
	if n := countDistinct(t, handles[0]); n != len(batch) {
		t.Errorf("%d distinct ids, want %d", n, len(batch))
	}
}

// TestSQLiteCloseFoldsLogs checks that a store closed leaves no
// write-ahead log of the database or of its search index behind.
func TestSQLiteCloseFoldsLogs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, sampleArticle("a", 1))
	mustSearch(t, s, Query{Q: "ferry"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path + "-wal", path + SQLiteIndexSuffix + "-wal"} {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 0 {
			t.Errorf("%s holds %d bytes after Close", p, fi.Size())
		}
	}
}
