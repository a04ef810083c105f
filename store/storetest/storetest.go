// Package storetest gives tests a database of their own: a PostgreSQL
// schema that exists for one test. It is imported only by tests.
package storetest

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

// defaultTestPostgres is the machine's test database; NEWSFLOW_TEST_POSTGRES
// names another.
const defaultTestPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresReachable returns the DSN of the test database, or skips the test
// when PostgreSQL is unreachable (fails instead when CI=true).
func PostgresReachable(t testing.TB) string {
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

// PostgresDSN creates a schema with a random name, dropped when the test
// ends, and returns a DSN whose search_path selects it.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := PostgresReachable(t)
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
