package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store/storetest"
)

func openTestPostgres(t testing.TB) *Postgres {
	t.Helper()
	p, err := OpenPostgres(t.Context(), storetest.PostgresDSN(t))
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestPostgres(t *testing.T) {
	storetest.PostgresReachable(t) // skip (or fail on CI) once, not in every subtest
	testStore(t, func(t *testing.T) store { return openTestPostgres(t) })
}

func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
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
	dsn := storetest.PostgresDSN(t)
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
	if !fault.IsTemporary(err) || fault.IsPermanent(err) {
		t.Errorf("connection error %v: temporary %v, permanent %v; want temporary", err, fault.IsTemporary(err), fault.IsPermanent(err))
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
		{"read-only replica", &pgconn.PgError{Code: "25006"}, true},
		{"io error", &pgconn.PgError{Code: "58030"}, true},
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
			if got := fault.IsTemporary(err); got != tt.temporary {
				t.Errorf("fault.IsTemporary(%v) = %v, want %v", err, got, tt.temporary)
			}
			if fault.IsPermanent(err) {
				t.Errorf("fault.IsPermanent(%v) = true", err)
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
	if len(invalid) != 1 || invalid[0].ID != a.ID || invalid[0].Index != 3 || !fault.IsPermanent(err) {
		t.Errorf("error %v: invalid articles %v, want one permanent for %q at index 3", err, invalid, a.ID)
	}
}

// An article PostgreSQL cannot index (a URL longer than a btree row) is the
// article's fault: permanent, so that only it is parked.
func TestPostgresOversizedURLIsInvalid(t *testing.T) {
	p := openTestPostgres(t)
	a := sampleArticle("long-url", 1)
	var slug strings.Builder
	for i := range 1200 {
		fmt.Fprintf(&slug, "%x", uint32(i)*2654435761) // not compressible
	}
	a.URL = "https://news.example/" + slug.String()
	_, err := p.Upsert(t.Context(), []process.Article{a})
	if err == nil {
		t.Skip("this PostgreSQL indexes the long URL")
	}
	if !fault.IsPermanent(err) || fault.IsTemporary(err) {
		t.Errorf("Upsert = %v, want a permanent error", err)
	}
}
