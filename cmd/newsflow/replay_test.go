package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/ingest/fault"
)

// replayPages is how many raw pages the replay tests store.
const replayPages = 300

// storeRawPages publishes n small made-up pages to NEWS_RAW through o's
// NATS, and one PNG that has no record.
func storeRawPages(t *testing.T, o bus.Options, n int) {
	t.Helper()
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := bus.Connect(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pub := rawPublisher{b}
	raw := func(i int, ctype string, body []byte) ingest.RawArticle {
		u := fmt.Sprintf("https://courier.example/news/%d.html", i)
		return ingest.RawArticle{SchemaVersion: 1, ID: fmt.Sprintf("item-%d", i), Feed: "courier", FeedURL: "https://courier.example/news.rss",
			Item: ingest.FeedItem{GUID: u, Link: u, Title: fmt.Sprintf("Story %d", i)}, URL: u, Status: 200,
			Header: map[string][]string{"Content-Type": {ctype}}, Body: body, FetchedAt: time.Now()}
	}
	for i := range n {
		page := fmt.Sprintf(`<html><head><title>Ferry timetable change %d</title></head><body><article><h1>Ferry timetable change %d</h1>
<p>The harbour ferry will leave at %d minutes past the hour from next week, the operator said on Tuesday.</p>
<p>Passengers asked for the change in a survey last spring, and the council agreed to it at its meeting number %d.</p></article></body></html>`, i, i, i%60, i)
		if err := pub.PublishRaw(t.Context(), raw(i, "text/html; charset=utf-8", []byte(page))); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.PublishRaw(t.Context(), raw(n, "image/png", []byte("\x89PNG\r\n\x1a\n not a page"))); err != nil {
		t.Fatal(err)
	}
}

// recordsIn counts the records in NEWS_ARTICLES of the NATS at url (with
// token, if any), on a connection of its own that can fail while a server
// restarts.
func recordsIn(url, token string) (uint64, error) {
	nc, err := nats.Connect(url, nats.Token(token), nats.Timeout(time.Second))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, bus.StreamArticles)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// embeddedRecords counts the records of the embedded server that a
// replay runs for dir, once it runs.
func embeddedRecords(dir string) (uint64, error) {
	b, err := os.ReadFile(filepath.Join(dir, "nats.url"))
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, fmt.Errorf("nats.url holds %q", b)
	}
	return recordsIn(f[0], f[1])
}

// replayedCount is the count in replay raw's summary line.
func replayedCount(t *testing.T, out string) int {
	t.Helper()
	m := regexp.MustCompile(`replayed (\d+) raw articles`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in %q", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// replayOnce runs `newsflow replay raw` to its end and returns its output.
func replayOnce(t *testing.T, args ...string) string {
	t.Helper()
	var out syncBuffer
	if err := run(t.Context(), append([]string{"replay", "raw"}, args...), &out, &out); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	return out.String()
}

// A replay of stored pages publishes a record of every page, counts the
// one that has none, and a second replay, which is not a resume, goes
// through every page again.
func TestReplayRawPublishesEveryRecord(t *testing.T) {
	dir := t.TempDir()
	storeRawPages(t, bus.Options{DataDir: dir}, replayPages)
	out := replayOnce(t, "--data", dir)
	want := fmt.Sprintf("replayed %d raw articles: %d records published, 1 without a record, 0 skipped", replayPages+1, replayPages)
	if !strings.Contains(out, want) {
		t.Errorf("replay said %q, want %q", out, want)
	}
	if !strings.Contains(out, "not an HTML page") {
		t.Errorf("the PNG's failure is not reported:\n%s", out)
	}
	if strings.Contains(out, "nats disconnected") {
		t.Errorf("replay lost its connection:\n%s", out)
	}
	if out := replayOnce(t, "--data", dir); replayedCount(t, out) != replayPages+1 {
		t.Errorf("a finished replay run again did not start over:\n%s", out)
	}
	b, err := bus.Connect(t.Context(), bus.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if n := streamCount(t, b, bus.StreamArticles); n != replayPages {
		t.Errorf("NEWS_ARTICLES holds %d records, want %d", n, replayPages)
	}
}

// A replay interrupted midway, started again, resumes: it reads fewer
// messages than the stream holds and leaves every record published;
// --restart starts over.
func TestReplayResumesAfterInterrupt(t *testing.T) {
	dir := t.TempDir()
	storeRawPages(t, bus.Options{DataDir: dir}, replayPages)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"replay", "raw", "--data", dir}, &out, &out) }()
	checkFor(t, 2*time.Minute, func() error {
		n, err := embeddedRecords(dir)
		if err == nil && n < replayPages/3 {
			err = fmt.Errorf("%d records so far", n)
		}
		return err
	})
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "run it again to resume") {
		t.Fatalf("interrupted replay returned %v, want an interruption that says how to resume\n%s", err, out.String())
	}
	first := replayedCount(t, out.String())
	if first >= replayPages {
		t.Fatalf("the replay was not interrupted: %s", out.String())
	}

	out2 := replayOnce(t, "--data", dir)
	second := replayedCount(t, out2)
	if !strings.Contains(out2, "resuming") || second == 0 || second > replayPages+1-first {
		t.Errorf("second replay read %d messages after a first of %d (of %d): it did not resume\n%s", second, first, replayPages+1, out2)
	}
	b, err := bus.Connect(t.Context(), bus.Options{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if n := streamCount(t, b, bus.StreamArticles); n != replayPages {
		t.Errorf("NEWS_ARTICLES holds %d records, want %d", n, replayPages)
	}
	b.Close()
	if out := replayOnce(t, "--data", dir, "--restart"); replayedCount(t, out) != replayPages+1 {
		t.Errorf("--restart did not start over:\n%s", out)
	}
}

// startJetStream starts a NATS server with JetStream in storeDir on
// port.
func startJetStream(t *testing.T, port int, storeDir string) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: storeDir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(30 * time.Second) {
		t.Fatal("NATS server did not start")
	}
	return s
}

// A replay whose NATS server restarts midway waits for it and finishes,
// with every record published.
func TestReplaySurvivesServerRestart(t *testing.T) {
	store, port := t.TempDir(), freePort(t)
	srv := startJetStream(t, port, store)
	url := srv.ClientURL()
	storeRawPages(t, bus.Options{URL: url}, replayPages)

	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(t.Context(), []string{"replay", "raw", "--nats", url}, &out, &out) }()
	checkFor(t, 2*time.Minute, func() error {
		n, err := recordsIn(url, "")
		if err == nil && n < replayPages/3 {
			err = fmt.Errorf("%d records so far", n)
		}
		return err
	})
	srv.Shutdown()
	srv.WaitForShutdown()
	startJetStream(t, port, store)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("replay: %v\n%s", err, out.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("replay did not finish after the restart:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "nats disconnected") {
		t.Errorf("the replay did not see the restart (it finished before it?):\n%s", out.String())
	}
	if n, err := recordsIn(url, ""); err != nil || n != replayPages {
		t.Errorf("NEWS_ARTICLES holds %d records (%v), want %d\n%s", n, err, replayPages, out.String())
	}
}

// retry waits out temporary errors, gives up on unclassified ones after
// retryLimit tries, and returns permanent and deferred ones at once.
func TestReplayRetry(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tt := range []struct {
		name      string
		err       error
		failFirst int
		wantTries int
		wantErr   bool
	}{
		{"temporary then fine", fault.AsTemporary(errors.New("bus down")), 3, 4, false},
		{"permanent", fault.AsPermanent(errors.New("not a page")), 100, 1, true},
		{"deferred", fault.AsDeferred(errors.New("newer schema")), 100, 1, true},
		{"unclassified", errors.New("odd"), 100, retryLimit, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tries := 0
			err := retry(t.Context(), log, "test", func() error {
				if tries++; tries <= tt.failFirst {
					return tt.err
				}
				return nil
			})
			if tries != tt.wantTries || (err != nil) != tt.wantErr {
				t.Errorf("%d tries, err %v; want %d tries, error %v", tries, err, tt.wantTries, tt.wantErr)
			}
		})
	}
}

// The progress line says count, total, rate and time left; the bar is
// redrawn in place only on a terminal.
func TestReplayProgressLine(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, "raw")
	p.begin(200, 0)
	p.start = time.Now().Add(-10 * time.Second)
	for range 50 {
		p.add(outcomeDone)
	}
	p.add(outcomeFailed)
	line := p.line()
	for _, want := range []string{"51/200 (26%)", "5.1/s", "ETA 29s", "1 failed"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line %q lacks %q", line, want)
		}
	}
	p.show()
	if p.tty || strings.Contains(out.String(), "\r") || !strings.HasPrefix(out.String(), "replay raw: 51/200") {
		t.Errorf("plain progress (not a terminal) = %q", out.String())
	}
}
