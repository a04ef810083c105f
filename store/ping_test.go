package store

import (
	"context"
	"testing"

	"github.com/newsflow/newsflow/store/storetest"
)

// Ping answers while the database is open and fails once it is closed: the
// store role's readiness probe relies on both.
func TestPing(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPing(t, openTestSQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		storetest.PostgresReachable(t)
		p, err := OpenPostgres(t.Context(), storetest.PostgresDSN(t))
		if err != nil {
			t.Fatal(err)
		}
		testPing(t, p)
	})
}

func testPing(t *testing.T, s interface {
	Ping(context.Context) error
	Close() error
}) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping on an open database: %v", err)
	}
	s.Close()
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping on a closed database succeeded")
	}
}
