package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
		msg := fmt.Sprintf("PostgreSQL unreachable at %s (set NEWSFLOW_TEST_POSTGRES): %v", dsn, err)
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
	testStore(t, func(t *testing.T) store { return openTestPostgres(t) })
}
