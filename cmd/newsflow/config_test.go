package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsflow/newsflow/store/storetest"
)

// syncBuffer is a bytes.Buffer that a command may write to while a test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkFor calls cond until it returns nil or timeout passes, and then fails
// the test with cond's last error: the state the test was waiting on.
func checkFor(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logLine returns the first line of log that contains msg=<msg>.
func logLine(log, msg string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, "msg="+msg) || strings.Contains(line, `msg="`+msg+`"`) {
			return line
		}
	}
	return ""
}

// startCommand runs `newsflow args...` until it has logged that it is
// running, then stops it as SIGTERM would and returns its log.
func startCommand(t *testing.T, args ...string) string {
	t.Helper()
	var log syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, &log, &log) }()
	checkFor(t, time.Minute, func() error {
		select {
		case err := <-done:
			t.Fatalf("%s ended before it ran: %v\n%s", args[0], err, log.String())
		default:
		}
		if logLine(log.String(), "newsflow running") == "" {
			return fmt.Errorf("%s has not logged that it runs:\n%s", args[0], log.String())
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("%s: %v\n%s", args[0], err, log.String())
	}
	return log.String()
}

// Each role logs what it has: a store only where there is one, and only
// its own counters when it stops.
func TestRolesLogOnlyWhatTheyHave(t *testing.T) {
	feeds := filepath.Join(t.TempDir(), "feeds.txt")
	os.WriteFile(feeds, []byte("http://127.0.0.1:1/feed.rss\n"), 0o644)
	for _, tt := range []struct {
		role      string
		args      []string
		has, lack []string
	}{
		{"ingest", []string{"--feeds", feeds}, []string{"items_published="}, []string{"store=", "inserted=", "processed="}},
		{"process", nil, []string{"processed="}, []string{"store=", "inserted=", "items_published="}},
		{"store", nil, []string{"store=", "inserted="}, []string{"items_published=", "processed="}},
	} {
		t.Run(tt.role, func(t *testing.T) {
			data := t.TempDir()
			log := startCommand(t, append([]string{tt.role, "--data", data}, tt.args...)...)
			lines := logLine(log, "newsflow running") + logLine(log, "newsflow stopped")
			for _, want := range tt.has {
				if !strings.Contains(lines, want) {
					t.Errorf("%s does not log %s:\n%s", tt.role, want, lines)
				}
			}
			for _, not := range tt.lack {
				if strings.Contains(lines, not) {
					t.Errorf("%s logs %s, which it does not have:\n%s", tt.role, not, lines)
				}
			}
			if tt.role != "store" {
				if _, err := os.Stat(filepath.Join(data, "newsflow.db")); err == nil {
					t.Errorf("%s created a database it does not use", tt.role)
				}
			}
		})
	}
}

// A password in --store, in a URL or a keyword/value DSN, appears in no
// error and no log line, and a keyword/value DSN is never taken for a
// SQLite file name.
func TestStorePasswordNeverShown(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, dsn := range []string{
		"postgres://news:hunter2@127.0.0.1:1/news?sslmode=disable",
		"postgres://news@127.0.0.1:1/news?password=hunter2&sslmode=disable",
		"host=127.0.0.1 port=1 user=news dbname=news password=hunter2 sslmode=disable",
		"host=127.0.0.1 port=notaport password=hunter2",
	} {
		for _, cmd := range [][]string{
			{"store", "--data", "data", "--store", dsn},
			{"replay", "articles", "--data", "data", "--store", dsn},
			{"articles", "export", "--store", dsn},
		} {
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second) // a store that runs has taken the DSN for a file
			err := run(ctx, cmd, &out, &out)
			cancel()
			if err == nil {
				t.Errorf("%s with an unreachable database succeeded", cmd[0])
				continue
			}
			if strings.Contains(err.Error()+out.String(), "hunter2") {
				t.Errorf("%s shows the password of %q:\nerror: %v\nlog: %s", cmd[0], dsn, err, out.String())
			}
			if !strings.Contains(err.Error(), "127.0.0.1") && !strings.Contains(err.Error(), "invalid PostgreSQL DSN") {
				t.Errorf("%s error does not name the database: %v", cmd[0], err)
			}
		}
	}
	if files, _ := filepath.Glob("*"); len(files) > 1 || len(files) == 1 && files[0] != "data" {
		t.Errorf("files created: %q; a PostgreSQL DSN was taken for a SQLite file", files)
	}

	// The log line of a running store shows the database without its password.
	u, err := url.Parse(storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "hunter2")
	log := startCommand(t, "store", "--data", t.TempDir(), "--store", u.String())
	line := logLine(log, "newsflow running")
	if strings.Contains(log, "hunter2") || !strings.Contains(line, "postgres://"+u.User.Username()+"@"+u.Host) {
		t.Errorf("running line does not show the database without its password:\n%s", log)
	}
}
