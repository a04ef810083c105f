package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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

// logLine returns the first line of log that contains msg=<msg> (or
// "msg":"<msg>" in JSON).
func logLine(log, msg string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, "msg="+msg) || strings.Contains(line, `msg="`+msg+`"`) || strings.Contains(line, `"msg":"`+msg+`"`) {
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

// unsetenv unsets the variables for the test, and sets them back after.
func unsetenv(t *testing.T, keys ...string) {
	for _, k := range keys {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// --log-format json writes one JSON object a line; another format is
// refused with an error naming the setting.
func TestLogFormat(t *testing.T) {
	log := startCommand(t, "process", "--data", t.TempDir(), "--log-format", "json")
	line := logLine(log, "newsflow running")
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] != "INFO" || rec["roles"] == nil {
		t.Errorf("running line is not a JSON record with level and roles (%v):\n%s", err, log)
	}
	for _, tt := range []struct{ flag, env, want string }{
		{"yaml", "", `--log-format ($NEWSFLOW_LOG_FORMAT): "yaml" is not text or json`},
		{"", "logfmt", `"logfmt" is not text or json`},
	} {
		t.Setenv("NEWSFLOW_LOG_FORMAT", tt.env)
		args := []string{"--data", t.TempDir()}
		if tt.flag != "" {
			args = append(args, "--log-format", tt.flag)
		}
		if _, err := parseConfig("process", args, []string{"process"}, io.Discard); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("log format %q/%q: error %v, want one saying %s", tt.flag, tt.env, err, tt.want)
		}
	}
	t.Setenv("NEWSFLOW_LOG_FORMAT", "json")
	if c, err := parseConfig("process", []string{"--data", t.TempDir()}, []string{"process"}, io.Discard); err != nil || c.logFormat != "json" {
		t.Errorf("$NEWSFLOW_LOG_FORMAT=json: %q, %v", c.logFormat, err)
	}
}

func TestEnvOrFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("s3cret value\r\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	for _, tt := range []struct {
		env    map[string]string
		want   string
		ok     bool
		errHas string
	}{
		{map[string]string{}, "", false, ""},
		{map[string]string{"X": "inline"}, "inline", true, ""},
		{map[string]string{"X_FILE": file}, "s3cret value", true, ""},
		{map[string]string{"X": "inline", "X_FILE": file}, "", false, "$X and $X_FILE are both set"},
		{map[string]string{"X_FILE": missing}, "", false, "$X_FILE: open " + missing},
	} {
		got, ok, err := envOrFile(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }, "X")
		if got != tt.want || ok != tt.ok || (err == nil) != (tt.errHas == "") || (err != nil && !strings.Contains(err.Error(), tt.errHas)) {
			t.Errorf("%v: %q, %v, %v; want %q, %v, error with %q", tt.env, got, ok, err, tt.want, tt.ok, tt.errHas)
		}
	}
}

// The secrets come from files too: $NEWSFLOW_STORE_FILE, $NATS_URL_FILE
// and $NEWSFLOW_API_TOKEN_FILE, read at start with the line break
// trimmed; a file that cannot be read, or both variables set, stops the
// start with an error naming the variable. The value is not shown in -h.
func TestSecretsFromFiles(t *testing.T) {
	unsetenv(t, "NEWSFLOW_STORE", "NATS_URL", "NEWSFLOW_API_TOKEN")
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("NEWSFLOW_STORE_FILE", write("store", "postgres://news:hunter2@db.internal/news\n"))
	t.Setenv("NATS_URL_FILE", write("nats", "nats://user:hunter2@nats.internal:4222\n"))
	t.Setenv("NEWSFLOW_API_TOKEN_FILE", write("token", "a-token-long-enough-to-use\n"))
	var help bytes.Buffer
	c, err := parseConfig("store", []string{"--http", ":8080"}, []string{"store"}, &help)
	if err != nil {
		t.Fatal(err)
	}
	if c.store != "postgres://news:hunter2@db.internal/news" || c.natsURL != "nats://user:hunter2@nats.internal:4222" || c.apiToken != "a-token-long-enough-to-use" {
		t.Errorf("from files: store %q, nats %q, token %q", c.store, c.natsURL, c.apiToken)
	}
	if c, err := parseConfig("store", []string{"--store", "other.db"}, []string{"store"}, &help); err != nil || c.store != "other.db" {
		t.Errorf("--store over $NEWSFLOW_STORE_FILE: %q, %v", c.store, err)
	}
	parseConfig("store", []string{"-h"}, []string{"store"}, &help)
	if strings.Contains(help.String(), "hunter2") {
		t.Errorf("-h shows a secret:\n%s", help.String())
	}

	for _, tt := range []struct{ set, value, want string }{
		{"NEWSFLOW_STORE", "x.db", "$NEWSFLOW_STORE and $NEWSFLOW_STORE_FILE are both set"},
		{"NATS_URL", "nats://a", "$NATS_URL and $NATS_URL_FILE are both set"},
		{"NEWSFLOW_API_TOKEN", "a-token-long-enough-to-use", "$NEWSFLOW_API_TOKEN and $NEWSFLOW_API_TOKEN_FILE are both set"},
		{"NEWSFLOW_STORE_FILE", filepath.Join(dir, "nothing"), "$NEWSFLOW_STORE_FILE: open "},
		{"NEWSFLOW_API_TOKEN_FILE", dir, "$NEWSFLOW_API_TOKEN_FILE: read "},
	} {
		t.Run(tt.set, func(t *testing.T) {
			t.Setenv(tt.set, tt.value)
			err := run(t.Context(), []string{"store", "--http", ":8080"}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

// The status server listens where --http says: a bare port on 127.0.0.1,
// any other host than loopback only with an API token; without one
// newsflow does not start, and the error names the setting.
func TestHTTPAddressNeedsToken(t *testing.T) {
	unsetenv(t, "NEWSFLOW_API_TOKEN", "NEWSFLOW_API_TOKEN_FILE", "NEWSFLOW_HTTP")
	parse := func(addr string) (config, error) {
		return parseConfig("process", []string{"--data", t.TempDir(), "--http", addr}, []string{"process"}, io.Discard)
	}
	for _, addr := range []string{":8080", "0.0.0.0:8080", "[::]:8080", "10.1.2.3:8080"} {
		_, err := parse(addr)
		if err == nil || !strings.Contains(err.Error(), "--http ($NEWSFLOW_HTTP)") || !strings.Contains(err.Error(), "$NEWSFLOW_API_TOKEN") {
			t.Errorf("--http %s without a token: %v, want an error naming --http and $NEWSFLOW_API_TOKEN", addr, err)
		}
	}
	for addr, want := range map[string]string{"8080": "127.0.0.1:8080", "127.0.0.1:9000": "127.0.0.1:9000", "localhost:9000": "localhost:9000", "[::1]:9000": "[::1]:9000"} {
		if c, err := parse(addr); err != nil || c.httpAddr != want {
			t.Errorf("--http %s: %q, %v; want %s", addr, c.httpAddr, err, want)
		}
	}
	// A whole command stops at once, before it listens or connects.
	err := run(t.Context(), []string{"process", "--data", t.TempDir(), "--http", ":0"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--http") {
		t.Errorf("process --http :0 without a token = %v", err)
	}
	t.Setenv("NEWSFLOW_API_TOKEN", "a-token-long-enough-to-use")
	if c, err := parse(":8080"); err != nil || c.apiToken != "a-token-long-enough-to-use" {
		t.Errorf("--http :8080 with a token: %q, %v", c.apiToken, err)
	}
	t.Setenv("NEWSFLOW_API_TOKEN", "short")
	if _, err := parse("127.0.0.1:8080"); err == nil || !strings.Contains(err.Error(), "$NEWSFLOW_API_TOKEN") {
		t.Errorf("a short token: %v", err)
	}
}
