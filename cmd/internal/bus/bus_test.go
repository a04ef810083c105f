package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// servers lists the NATS servers the contract suite runs against: the
// in-process one built from the nats-server module, and the machine's own
// server (NEWSFLOW_TEST_NATS_URL, default 127.0.0.1:4222) when it answers.
func servers(t *testing.T) map[string]func(t *testing.T) *Bus {
	out := map[string]func(t *testing.T) *Bus{
		"embedded": func(t *testing.T) *Bus {
			b, err := Connect(t.Context(), Options{DataDir: t.TempDir(), Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(b.Close)
			return b
		},
		"inprocess-tcp": func(t *testing.T) *Bus {
			return connectURL(t, runServer(t).ClientURL())
		},
	}
	url := os.Getenv("NEWSFLOW_TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "nats://"), time.Second); err == nil {
		c.Close()
		out["external"] = func(t *testing.T) *Bus {
			cleanExternal(t, url)
			return connectURL(t, url)
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("CI: the NATS server at %s does not answer: %v", url, err)
	}
	return out
}

func runServer(t *testing.T) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

func connectURL(t *testing.T, url string) *Bus {
	t.Helper()
	b, err := Connect(t.Context(), Options{URL: url, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// cleanExternal removes what an earlier run left on a shared server.
func cleanExternal(t *testing.T, url string) {
	b := connectURL(t, url)
	ctx := t.Context()
	for _, s := range []string{StreamRaw, StreamArticles, StreamParked} {
		if err := b.js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Fatal(err)
		}
	}
	_ = b.js.DeleteObjectStore(ctx, BucketBodies)
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// eventually is checkFor for a condition that has no state to report.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	checkFor(t, 20*time.Second, func() error {
		if !cond() {
			return fmt.Errorf("waiting for %s", what)
		}
		return nil
	})
}

func streamMsgs(t *testing.T, b *Bus, stream string) uint64 {
	t.Helper()
	s, err := b.js.Stream(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

type permErr struct{ error }

func (permErr) Permanent() bool { return true }

type tempErr struct{ error }

func (tempErr) Temporary() bool { return true }

func fastOptions(stream, consumer string) ConsumerOptions {
	return ConsumerOptions{Stream: stream, Consumer: consumer, Workers: 2, MaxDeliver: 3,
		Backoff: []time.Duration{10 * time.Millisecond}, Drain: 5 * time.Second}
}

func TestBus(t *testing.T) {
	for name, open := range servers(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("PublishDedup", func(t *testing.T) { testPublishDedup(t, open(t)) })
			t.Run("LargePayload", func(t *testing.T) { testLargePayload(t, open(t)) })
			t.Run("Fates", func(t *testing.T) { testFates(t, open(t)) })
			t.Run("BatchIsolatesPoison", func(t *testing.T) { testBatchPoison(t, open(t)) })
			t.Run("SlowHandlerKeepsMessage", func(t *testing.T) { testSlowHandler(t, open(t)) })
		})
	}
}

func testPublishDedup(t *testing.T, b *Bus) {
	for range 3 {
		if err := b.Publish(t.Context(), RawSubject("feed-a"), "item-1", []byte(`{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(t.Context(), RawSubject("feed-a"), "item-2", []byte(`{"n":2}`)); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, b, StreamRaw); n != 2 {
		t.Fatalf("stream holds %d messages, want 2 (one per msg id)", n)
	}
}

func testLargePayload(t *testing.T, b *Bus) {
	big := bytes.Repeat([]byte("<p>a long page of news</p>\n"), 200_000) // ~5.4 MB
	if int64(len(big)) <= b.nc.MaxPayload() {
		t.Fatalf("test payload %d is not larger than max_payload %d", len(big), b.nc.MaxPayload())
	}
	if err := b.Publish(t.Context(), RawSubject("big"), "big-1", big); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan []byte, 1)
	done := make(chan error)
	go func() {
		done <- b.Consume(ctx, fastOptions(StreamRaw, "t-large"), func(_ context.Context, m Msg) error {
			got <- m.Data
			return nil
		})
	}()
	select {
	case data := <-got:
		if !bytes.Equal(data, big) {
			t.Fatalf("payload came back as %d bytes, want the %d published", len(data), len(big))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("large message not delivered")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// testFates checks each error class's outcome: ack, retry then park, park at
// once, and a panic parked.
func testFates(t *testing.T, b *Bus) {
	for _, body := range []string{"ok", "flaky", "temp", "perm", "panic", "outage"} {
		if err := b.Publish(t.Context(), RawSubject("fates"), body, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	calls := map[string]int{}
	var acked atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		done <- b.Consume(ctx, fastOptions(StreamRaw, "t-fates"), func(_ context.Context, m Msg) error {
			mu.Lock()
			calls[string(m.Data)]++
			n := calls[string(m.Data)]
			mu.Unlock()
			switch string(m.Data) {
			case "flaky":
				if n < 2 {
					return errors.New("flaky: try again")
				}
			case "temp":
				return fmt.Errorf("unclassified failure (delivery %d)", m.Deliveries)
			case "outage":
				// A dependency down for longer than MaxDeliver tries: the
				// message waits, it is not parked.
				if n < 6 {
					return tempErr{fmt.Errorf("database down (delivery %d)", m.Deliveries)}
				}
			case "perm":
				return fmt.Errorf("decode: %w", permErr{errors.New("not JSON")})
			case "panic":
				panic("boom")
			}
			acked.Add(1)
			return nil
		})
	}()
	eventually(t, "3 parked messages", func() bool { return streamMsgs(t, b, StreamParked) == 3 })
	eventually(t, "3 acked messages", func() bool { return acked.Load() == 3 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if calls["temp"] != 3 || calls["perm"] != 1 || calls["panic"] != 1 || calls["flaky"] != 2 || calls["outage"] != 6 {
		t.Errorf("handler calls = %v, want temp 3 (MaxDeliver), perm 1, panic 1, flaky 2, outage 6", calls)
	}
	mu.Unlock()

	// Each parked copy carries its error and origin.
	s, _ := b.js.Stream(t.Context(), StreamParked)
	errs := map[string]string{}
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := s.GetMsg(t.Context(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(HeaderSubject) != RawSubject("fates") || m.Header.Get(HeaderStage) != "t-fates" {
			t.Errorf("parked %q: subject %q stage %q", m.Data, m.Header.Get(HeaderSubject), m.Header.Get(HeaderStage))
		}
		errs[string(m.Data)] = m.Header.Get(HeaderError)
	}
	for body, want := range map[string]string{"temp": "unclassified failure (delivery 3)", "perm": "not JSON", "panic": "panicked: boom"} {
		if !strings.Contains(errs[body], want) {
			t.Errorf("parked %q error = %q, want it to mention %q", body, errs[body], want)
		}
	}
	// Nothing is left pending on the consumer.
	c, _ := b.js.Consumer(t.Context(), StreamRaw, "t-fates")
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 {
		t.Errorf("consumer left pending %d, ack pending %d", info.NumPending, info.NumAckPending)
	}
}

// testSlowHandler checks that a handler slower than AckWait keeps its
// message: it is not delivered again meanwhile.
func testSlowHandler(t *testing.T, b *Bus) {
	if err := b.Publish(t.Context(), RawSubject("slow"), "slow-1", []byte("slow")); err != nil {
		t.Fatal(err)
	}
	o := fastOptions(StreamRaw, "t-slow")
	o.AckWait = 1500 * time.Millisecond
	var deliveries []uint64
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		done <- b.Consume(ctx, o, func(_ context.Context, m Msg) error {
			mu.Lock()
			deliveries = append(deliveries, m.Deliveries)
			mu.Unlock()
			time.Sleep(2 * o.AckWait)
			return nil
		})
	}()
	c, err := b.js.Consumer(t.Context(), StreamRaw, "t-slow")
	for err != nil {
		c, err = b.js.Consumer(t.Context(), StreamRaw, "t-slow")
	}
	eventually(t, "slow message acked", func() bool {
		info, err := c.Info(t.Context())
		return err == nil && info.AckFloor.Stream == 1
	})
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(deliveries) != 1 {
		t.Errorf("slow message delivered %d times (%v), want once", len(deliveries), deliveries)
	}
}

func testBatchPoison(t *testing.T, b *Bus) {
	for i := range 10 {
		body := fmt.Sprintf("good-%d", i)
		if i == 4 {
			body = "poison"
		}
		if err := b.Publish(t.Context(), ArticleSubject("batch"), body, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	stored := map[string]int{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		done <- b.ConsumeBatch(ctx, fastOptions(StreamArticles, "t-batch"), func(_ context.Context, ms []Msg) error {
			for _, m := range ms {
				if string(m.Data) == "poison" {
					return permErr{errors.New("invalid record poison")}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ms {
				stored[string(m.Data)]++
			}
			return nil
		})
	}()
	eventually(t, "poison parked", func() bool { return streamMsgs(t, b, StreamParked) == 1 })
	eventually(t, "9 stored", func() bool { mu.Lock(); defer mu.Unlock(); return len(stored) == 9 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for k, n := range stored {
		if n != 1 {
			t.Errorf("%s stored %d times", k, n)
		}
	}
}

func TestEmbeddedKeepsStreamsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	b, err := Connect(t.Context(), Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(t.Context(), RawSubject("r"), "one", []byte("1")); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b, err = Connect(t.Context(), Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Publish(t.Context(), RawSubject("r"), "one", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, b, StreamRaw); n != 1 {
		t.Fatalf("after restart the stream holds %d messages, want 1 (kept, and the repeat dropped)", n)
	}
}

func TestParkedListAndRetry(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	if err := b.Publish(t.Context(), RawSubject("p"), "bad-1", []byte("bad")); err != nil {
		t.Fatal(err)
	}
	fixed := atomic.Bool{}
	var handled atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		done <- b.Consume(ctx, fastOptions(StreamRaw, "t-parked"), func(_ context.Context, m Msg) error {
			if !fixed.Load() {
				return permErr{errors.New("cannot handle yet")}
			}
			handled.Add(1)
			return nil
		})
	}()
	eventually(t, "message parked", func() bool { return streamMsgs(t, b, StreamParked) == 1 })
	var list []Parked
	if err := b.EachParked(t.Context(), func(p Parked) error { list = append(list, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Stage != "t-parked" || list[0].Subject != RawSubject("p") || !strings.Contains(list[0].Error, "cannot handle yet") {
		t.Fatalf("parked list = %+v", list)
	}
	fixed.Store(true)
	if err := b.RetryParked(t.Context(), list[0].Seq, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "retried message handled", func() bool { return handled.Load() == 1 })
	if n := streamMsgs(t, b, StreamParked); n != 0 {
		t.Errorf("%d messages still parked after retry", n)
	}
	cancel()
	<-done
}

// A second process on the same data folder joins the embedded server of the
// first instead of failing on JetStream's lock.
func TestSecondConnectJoinsEmbedded(t *testing.T) {
	dir := t.TempDir()
	first, err := Connect(t.Context(), Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := first.Publish(t.Context(), RawSubject("j"), "one", []byte("1")); err != nil {
		t.Fatal(err)
	}
	second, err := Connect(t.Context(), Options{DataDir: dir, Join: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if second.srv != nil {
		t.Fatal("second Connect started its own server")
	}
	if n := streamMsgs(t, second, StreamRaw); n != 1 {
		t.Errorf("second connection sees %d messages, want 1", n)
	}
	second.Close()
	if _, err := os.Stat(filepath.Join(dir, urlFileName)); err != nil {
		t.Errorf("the joining connection removed the server's %s: %v", urlFileName, err)
	}
}

// A consumer deleted under a running stage ends it with an error, so that
// the process stops instead of running on without the stage.
func TestConsumeEndsWhenConsumerDeleted(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	for _, batch := range []bool{false, true} {
		name := fmt.Sprintf("t-deleted-%v", batch)
		done := make(chan error, 1)
		go func() {
			if batch {
				done <- b.ConsumeBatch(t.Context(), fastOptions(StreamRaw, name), func(context.Context, []Msg) error { return nil })
			} else {
				done <- b.Consume(t.Context(), fastOptions(StreamRaw, name), func(context.Context, Msg) error { return nil })
			}
		}()
		eventually(t, "consumer created", func() bool { _, err := b.js.Consumer(t.Context(), StreamRaw, name); return err == nil })
		if err := b.js.DeleteConsumer(t.Context(), StreamRaw, name); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("batch=%v: consume ended with %v, want an error naming the consumer", batch, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("batch=%v: consume did not end after its consumer was deleted", batch)
		}
	}
}

// A long-lived process does not join another's embedded server: it starts
// its own, which fails clearly while the other holds the folder.
func TestSecondRunDoesNotJoin(t *testing.T) {
	dir := t.TempDir()
	first, err := Connect(t.Context(), Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := Connect(t.Context(), Options{DataDir: dir, Logger: testLogger(t)})
	if err == nil {
		second.Close()
		t.Fatal("a second server started on a folder in use")
	}
	t.Logf("second Connect: %v", err)
}

func TestFeedOfSubject(t *testing.T) {
	for subject, want := range map[string]string{
		RawSubject("town-news"):     "town-news",
		ArticleSubject("town-news"): "town-news",
		parkedSubject("process"):    "",
		"news.raw":                  "",
		"other.raw.x":               "",
	} {
		if got := FeedOfSubject(subject); got != want {
			t.Errorf("FeedOfSubject(%q) = %q, want %q", subject, got, want)
		}
	}
}
