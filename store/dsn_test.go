package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsPostgres(t *testing.T) {
	for _, tt := range []struct {
		dsn  string
		want bool
	}{
		{"postgres://u@h/db", true},
		{"postgresql://u:pw@h:5433/db?sslmode=disable", true},
		{"host=db dbname=news password=hunter2", true},
		{"  user = news host=db", true},
		{"newsflow.db", false},
		{"/var/lib/newsflow/newsflow.db", false},
		{"data/news=old.db", false},
		{"file.db?mode=rw", false},
	} {
		if got := IsPostgres(tt.dsn); got != tt.want {
			t.Errorf("IsPostgres(%q) = %v, want %v", tt.dsn, got, tt.want)
		}
	}
}

// The secrets of the DSNs below must appear in no redacted form and in no
// error of Open, whether the DSN parses (the database is unreachable: port
// 1) or not.
var secretDSNs = []struct{ dsn, shown string }{
	{"postgres://news:hunter2@127.0.0.1:1/news?sslmode=disable", "postgres://news@127.0.0.1:1/news"},
	{"postgres://news@127.0.0.1:1/news?password=hunter2&sslmode=disable", "postgres://news@127.0.0.1:1/news"},
	{"postgresql://news@127.0.0.1:1/news?sslmode=disable&application_name=nf&password=hunter2", "postgres://news@127.0.0.1:1/news?application_name=nf"},
	{"host=127.0.0.1 port=1 user=news dbname=news password=hunter2 sslmode=disable", "postgres://news@127.0.0.1:1/news"},
	{"host=127.0.0.1 port=1 user=news dbname=news password='hunter2 x' sslmode=disable", "postgres://news@127.0.0.1:1/news"},
	{"host=127.0.0.1 port=notaport user=news password=hunter2", "an invalid PostgreSQL DSN"},
	{"postgres://news:hunter2@127.0.0.1:notaport/news", "an invalid PostgreSQL DSN"},
	{"host=127.0.0.1 password=hunter2 sslmode=bogus", "an invalid PostgreSQL DSN"},
}

func TestRedactDSN(t *testing.T) {
	for _, tt := range secretDSNs {
		got := RedactDSN(tt.dsn)
		if strings.Contains(got, "hunter2") {
			t.Errorf("RedactDSN(%q) = %q: shows the password", tt.dsn, got)
		}
		if !strings.HasPrefix(got, tt.shown) {
			t.Errorf("RedactDSN(%q) = %q, want it to start with %q", tt.dsn, got, tt.shown)
		}
	}
	if got := RedactDSN("data/newsflow.db"); got != "data/newsflow.db" {
		t.Errorf("a SQLite path is shown as %q", got)
	}
}

// Open chooses the backend by the DSN: a keyword/value DSN is PostgreSQL,
// never a SQLite file of that name, and no error shows its password.
func TestOpenNeverLeaksPassword(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tt := range secretDSNs {
		s, err := Open(t.Context(), tt.dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded on an unreachable database", tt.dsn)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error shows the password: %v", tt.dsn, err)
		}
		if !strings.Contains(err.Error(), tt.shown) {
			t.Errorf("Open(%q) error %q does not name the database as %q", tt.dsn, err, tt.shown)
		}
	}
	if files, _ := filepath.Glob("*"); len(files) > 0 {
		t.Errorf("Open created files %q: a PostgreSQL DSN was taken for a SQLite file", files)
	}
}

// The database and its -wal and -shm files are private to the user, also
// when an older newsflow left them readable by everyone.
func TestSQLiteFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "newsflow.db")
	check := func(when string) {
		t.Helper()
		for _, p := range []string{dir, path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Errorf("%s: %v", when, err)
				continue
			}
			if perm := fi.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("%s: %s has mode %o, want no access for group and others", when, filepath.Base(p), perm)
			}
		}
	}
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	check("new database")
	s.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("database that was 0644")
}
