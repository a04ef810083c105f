package bus

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/newsflow/newsflow/ingest/fault"
)

// mountSmallDisk mounts a tmpfs of size at dir, or skips the test where
// mounting is not permitted.
func mountSmallDisk(t *testing.T, dir, size string) {
	t.Helper()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a %s tmpfs as the JetStream store (%v): the disk-full test needs root", size, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fill writes a file into dir until the disk has about leave bytes left.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	free, err := freeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for n := int64(0); n < free-leave; n += int64(len(chunk)) {
		if _, err := f.Write(chunk); err != nil {
			break // full already
		}
	}
	return path
}

// When the embedded server's disk fills, publishes fail as temporary
// errors while messages already stored can still be read; once space is
// freed, publishes succeed again within seconds, without a restart.
func TestEmbeddedResumesAfterDiskFull(t *testing.T) {
	dir := t.TempDir()
	mountSmallDisk(t, dir, "64m")
	var logs syncBuffer
	r := Retention{} // no limits: the disk fills, not a stream
	b, err := Connect(t.Context(), Options{DataDir: dir, Retention: &r, SweepEvery: -1,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	publish := func(i int, page []byte) error {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		return b.Publish(ctx, RawSubject("full"), fmt.Sprintf("page-%d", i), page)
	}
	page := bytes.Repeat([]byte("<p>news</p>"), 6<<10) // 66 KB
	for i := range 5 {
		if err := b.Publish(t.Context(), ArticleSubject("full"), fmt.Sprintf("rec-%d", i), []byte("record")); err != nil {
			t.Fatal(err)
		}
	}

	// A process stage consumes the raw stream throughout.
	var handled sync.Map
	ctx, stop := context.WithCancel(t.Context())
	consumed := make(chan error, 1)
	go func() {
		consumed <- b.Consume(ctx, fastOptions(StreamRaw, "t-full-process"), func(_ context.Context, m Msg) error {
			handled.Store(m.Subject+string(m.Data[:8]), true)
			return nil
		})
	}()
	defer func() {
		stop()
		<-consumed
	}()
	// The store stage's consumer exists before the disk fills.
	cons, err := b.js.CreateOrUpdateConsumer(t.Context(), StreamArticles, jetstream.ConsumerConfig{Durable: "t-full", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}

	filler := fill(t, dir, 512<<10)
	stored, i := 0, 0
	var failed error
	for ; i < 200 && failed == nil; i++ {
		if failed = publish(i, page); failed == nil {
			stored++
		}
	}
	if failed == nil {
		t.Fatalf("%d publishes of %d bytes all succeeded on a full disk", i, len(page))
	}
	if !fault.IsTemporary(failed) {
		t.Fatalf("publish on a full disk failed with %v, want a temporary error", failed)
	}
	t.Logf("disk full after %d publishes: %v", stored, failed)
	if err := publish(i, page); err == nil {
		t.Fatalf("a publish succeeded while the disk is still full")
	}
	i++
	// A stage that reads what is stored (the store, into a database on
	// another disk) keeps working.
	batch, err := cons.Fetch(5, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for m := range batch.Messages() {
		if err := m.DoubleAck(t.Context()); err != nil {
			t.Errorf("ack while the disk is full: %v", err)
		}
		got++
	}
	if got != 5 {
		t.Errorf("while the disk is full, the consumer got %d of the 5 stored messages (%v)", got, batch.Error())
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for err := publish(i, page); err != nil; err = publish(i, page) {
		if time.Now().After(deadline) {
			t.Fatalf("publishes still fail 30 s after space was freed: %v\nlog:\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	stored++
	t.Logf("publishing again %s after space was freed", time.Since(start).Round(100*time.Millisecond))
	for j := range 5 {
		if err := publish(i+1+j, page); err != nil {
			t.Fatalf("publish after recovery: %v", err)
		}
		stored++
	}
	// The stage consuming it resumes too.
	page2 := append([]byte("after---"), page...)
	if err := publish(i+10, page2); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	eventually(t, "the consuming stage to get a page published after recovery", func() bool {
		_, ok := handled.Load(RawSubject("full") + "after---")
		return ok
	})
	t.Logf("the consuming stage got it %s later", time.Since(start).Round(100*time.Millisecond))
	if n := streamMsgs(t, b, StreamRaw); n < uint64(stored) {
		t.Errorf("%s holds %d messages, want at least the %d acknowledged", StreamRaw, n, stored)
	}
	if !strings.Contains(logs.String(), "restarting JetStream") {
		t.Errorf("no log line says JetStream was restarted:\n%s", logs.String())
	}
}
