package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const defaultTestPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testPostgresDSN returns the DSN of the test database, or skips the test
// when PostgreSQL is unreachable (fails instead when CI=true).
func testPostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("NEWSFLOW_TEST_POSTGRES")
	if dsn == "" {
		dsn = defaultTestPostgres
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		shown := dsn
		if u, perr := url.Parse(dsn); perr == nil {
			shown = u.Redacted()
		}
		msg := fmt.Sprintf("PostgreSQL unreachable at %s (set NEWSFLOW_TEST_POSTGRES): %v", shown, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dsn
}

// freshSchemaDSN creates a schema with a random name, dropped when the test
// ends, and returns a DSN whose search_path selects it.
func freshSchemaDSN(t testing.TB) string {
	t.Helper()
	dsn := testPostgresDSN(t)
	schema := fmt.Sprintf("newsflow_test_%016x", rand.Uint64())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func openTestPostgres(t testing.TB) *Postgres {
	t.Helper()
	p, err := OpenPostgres(t.Context(), freshSchemaDSN(t))
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPostgres(t *testing.T) {
	testPostgresDSN(t) // skip (or fail on CI) once, not in every subtest
	testStore(t, func(t *testing.T) store { return openTestPostgres(t) })
}

func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := freshSchemaDSN(t)
	const n = 5
	stores := make([]*Postgres, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p, err := OpenPostgres(t.Context(), dsn)
			if err != nil {
				t.Errorf("open %d: %v", i, err)
				return
			}
			stores[i] = p
		})
	}
	wg.Wait()
	for _, p := range stores {
		if p != nil {
			defer p.Close()
		}
	}
	if t.Failed() {
		return
	}
	var rows int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(postgresSchema) {
		t.Errorf("schema_migrations has %d rows, want %d", rows, len(postgresSchema))
	}
	for i, p := range stores {
		mustUpsert(t, p, sampleArticle(fmt.Sprintf("p%d", i), i))
	}
	mustCount(t, stores[0], n)
}

func TestPostgresNewerSchema(t *testing.T) {
	dsn := freshSchemaDSN(t)
	p, err := OpenPostgres(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES ($1)`, len(postgresSchema)+1); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if p, err := OpenPostgres(t.Context(), dsn); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("OpenPostgres of a newer schema: error %v, want one saying it is newer", err)
		if p != nil {
			p.Close()
		}
	}
}

func TestPostgresUnreachableIsTemporary(t *testing.T) {
	// Port 1 on the loopback: nothing listens, the connection is refused.
	_, err := OpenPostgres(t.Context(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("OpenPostgres of a closed port succeeded")
	}
	if !IsTemporary(err) || IsPermanent(err) {
		t.Errorf("connection error %v: temporary %v, permanent %v; want temporary", err, IsTemporary(err), IsPermanent(err))
	}
}

func TestClassifyPostgres(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		temporary bool
	}{
		{"serialization failure", &pgconn.PgError{Code: "40001"}, true},
		{"deadlock", &pgconn.PgError{Code: "40P01"}, true},
		{"lock not available", &pgconn.PgError{Code: "55P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, true},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"undefined table", &pgconn.PgError{Code: "42P01"}, false},
		{"conn closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"network", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, true},
		{"cancelled", context.Canceled, false},
		// context.DeadlineExceeded has its own Temporary method (true).
		{"deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), true},
		{"other", errors.New("something else"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classifyPostgres("test", tt.err)
			if got := IsTemporary(err); got != tt.temporary {
				t.Errorf("IsTemporary(%v) = %v, want %v", err, got, tt.temporary)
			}
			if IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true", err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("%v does not wrap %v", err, tt.err)
			}
		})
	}
}

// TestPostgresDataExceptionIsInvalid sends a value PostgreSQL rejects past
// Validate (a record JSON that jsonb refuses) and checks that the error
// names the article and is permanent.
func TestPostgresDataExceptionIsInvalid(t *testing.T) {
	p := openTestPostgres(t)
	a := sampleArticle("bad-json", 0)
	err := pgx.BeginFunc(t.Context(), p.pool, func(tx pgx.Tx) error {
		return postgresTx{tx}.write(t.Context(), []op{{insert: true, a: &a, index: 3, record: []byte(`{"text": "\u0000"}`)}})
	})
	invalid := InvalidArticles(err)
	if len(invalid) != 1 || invalid[0].ID != a.ID || invalid[0].Index != 3 || !IsPermanent(err) {
		t.Errorf("error %v: invalid articles %v, want one permanent for %q at index 3", err, invalid, a.ID)
	}
}
