package store

import (
	"path/filepath"
	"testing"
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
