package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/newsflow/newsflow/ingest/fault"
)

// checkFor polls cond until it returns nil or timeout passes, and then
// fails with cond's last error.
func checkFor(t *testing.T, timeout time.Duration, cond func() error) {
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
		time.Sleep(20 * time.Millisecond)
	}
}

type deferErr struct{ error }

func (deferErr) Deferred() bool { return true }

func TestDecide(t *testing.T) {
	o := ConsumerOptions{MaxDeliver: 3, DeferDelay: time.Minute,
		Backoff: []time.Duration{time.Second, 10 * time.Second}}
	perm := permErr{errors.New("not JSON")}
	temp := tempErr{errors.New("database down")}
	def := deferErr{errors.New("schema_version 2")}
	tests := []struct {
		name      string
		err       error
		delivered uint64
		want      decision
	}{
		{"success", nil, 1, decision{fate: ack}},
		{"success after retries", nil, 7, decision{fate: ack}},
		{"permanent", perm, 1, decision{fate: park}},
		{"permanent wrapped", fmt.Errorf("decode: %w", perm), 1, decision{fate: park}},
		{"permanent in a join", errors.Join(errors.New("x"), perm), 1, decision{fate: park}},
		{"deferred", def, 1, decision{fate: deferred, delay: time.Minute}},
		{"deferred is never parked", fmt.Errorf("record: %w", def), 50, decision{fate: deferred, delay: time.Minute}},
		{"temporary holds", temp, 1, decision{fate: hold, delay: time.Second}},
		{"temporary is never parked", temp, 50, decision{fate: hold, delay: time.Second}},
		{"deadline is temporary", context.DeadlineExceeded, 9, decision{fate: hold, delay: time.Second}},
		{"temporary bus error", fault.AsTemporary(errors.New("publish")), 1, decision{fate: hold, delay: time.Second}},
		{"unclassified first", errors.New("odd"), 1, decision{fate: retry, delay: time.Second}},
		{"unclassified second", errors.New("odd"), 2, decision{fate: retry, delay: 10 * time.Second}},
		{"unclassified at MaxDeliver", errors.New("odd"), 3, decision{fate: park}},
		{"a cancelled context is unclassified", context.Canceled, 1, decision{fate: retry, delay: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.err, tt.delivered, &o); got != tt.want {
				t.Errorf("decide(%v, %d) = %v %v, want %v %v", tt.err, tt.delivered, got.fate, got.delay, tt.want.fate, tt.want.delay)
			}
		})
	}
}

// A publish whose acknowledgement never comes, because the server died
// under it, fails within seconds as a temporary error, although the
// caller's context allows minutes.
func TestPublishFailsSoonWhenServerDies(t *testing.T) {
	s := runServer(t)
	b := connectURL(t, s.ClientURL())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	published := make(chan struct{}, 1)
	result := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if err := b.Publish(ctx, RawSubject("dying"), strconv.Itoa(i), []byte("page")); err != nil {
				result <- err
				return
			}
			select {
			case published <- struct{}{}:
			default:
			}
		}
	}()
	<-published
	s.Shutdown()
	select {
	case err := <-result:
		if !fault.IsTemporary(err) {
			t.Errorf("publish to a dead server: %v, want a temporary error", err)
		}
		t.Logf("publish failed with: %v", err)
	case <-time.After(3 * publishTimeout):
		t.Fatalf("a publish to a dead server still waits after %s", 3*publishTimeout)
	}
}

// A message its handler defers waits, and is never parked however often
// it comes back, while the 15 messages behind it are handled.
func TestDeferredDoesNotHoldBackOthers(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	for i := range 16 {
		body := fmt.Sprintf("record-%d", i)
		if i == 3 {
			body = "newer"
		}
		if err := b.Publish(t.Context(), ArticleSubject("d"), body, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	stored := map[string]bool{}
	newer := 0
	o := ConsumerOptions{Stream: StreamArticles, Consumer: "t-deferred", MaxDeliver: 2, DeferDelay: 100 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- b.ConsumeBatch(ctx, o, func(_ context.Context, ms []Msg) error {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ms {
				if string(m.Data) == "newer" {
					newer++
					return fmt.Errorf("record %s: %w", m.Data, deferErr{errors.New("schema_version 2 is newer than 1")})
				}
			}
			for _, m := range ms {
				stored[string(m.Data)] = true
			}
			return nil
		})
	}()
	checkFor(t, 10*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(stored) != 15 || newer < 4 {
			return fmt.Errorf("%d of 15 stored, the newer one tried %d times (want 4 or more)", len(stored), newer)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := streamMsgs(t, b, StreamParked); n != 0 {
		t.Errorf("%d messages parked, want none: a deferred message waits", n)
	}
}

// While a dependency is down the batch stage holds its messages and tries
// again at most MaxPause apart; once it is back the whole backlog goes,
// however many times its first messages failed. Per-message delays (here
// 200ms, 1s, then 1 minute) would keep them waiting long after.
func TestOutageHoldsAndResumes(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	const n = 20
	for i := range n {
		if err := b.Publish(t.Context(), ArticleSubject("o"), strconv.Itoa(i), []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	var down atomic.Bool
	down.Store(true)
	var failures, handled atomic.Int32
	o := ConsumerOptions{Stream: StreamArticles, Consumer: "t-outage", BatchSize: 5, MaxDeliver: 2,
		MaxPause: 500 * time.Millisecond, Backoff: []time.Duration{200 * time.Millisecond, time.Second, time.Minute}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- b.ConsumeBatch(ctx, o, func(_ context.Context, ms []Msg) error {
			if down.Load() {
				failures.Add(1)
				return tempErr{errors.New("database down")}
			}
			handled.Add(int32(len(ms)))
			return nil
		})
	}()
	checkFor(t, 20*time.Second, func() error {
		if f := failures.Load(); f < 6 {
			return fmt.Errorf("the handler failed %d times, want 6", f)
		}
		return nil
	})
	down.Store(false)
	checkFor(t, 5*time.Second, func() error {
		if h := handled.Load(); h != n {
			return fmt.Errorf("%d of %d handled after the outage ended (after %d failures)", h, n, failures.Load())
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p := streamMsgs(t, b, StreamParked); p != 0 {
		t.Errorf("%d messages parked during an outage", p)
	}
}

// A batch holds at most BatchBytes of payload; a message larger than that
// goes alone.
func TestBatchBytes(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	const limit = 1 << 20
	sizes := []int{300 << 10, 300 << 10, 300 << 10, 300 << 10, 900 << 10, 300 << 10, limit + 100<<10, 100, 100}
	for i, size := range sizes {
		if err := b.Publish(t.Context(), ArticleSubject("bytes"), strconv.Itoa(i), bytes.Repeat([]byte{'x'}, size)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var batches [][]int
	handled := 0
	o := ConsumerOptions{Stream: StreamArticles, Consumer: "t-bytes", BatchBytes: limit}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- b.ConsumeBatch(ctx, o, func(_ context.Context, ms []Msg) error {
			mu.Lock()
			defer mu.Unlock()
			var batch []int
			for _, m := range ms {
				batch = append(batch, len(m.Data))
			}
			batches = append(batches, batch)
			handled += len(ms)
			return nil
		})
	}()
	checkFor(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if handled != len(sizes) {
			return fmt.Errorf("%d of %d messages handled", handled, len(sizes))
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, batch := range batches {
		sum := 0
		for _, n := range batch {
			sum += n
		}
		if sum > limit && len(batch) > 1 {
			t.Errorf("a batch of %d messages holds %d bytes, over BatchBytes %d: %v", len(batch), sum, limit, batches)
		}
	}
	t.Logf("batches (payload sizes): %v", batches)
}

// A lone message is handled when it comes, not when a batch would have
// filled or a pull expired: the loop waits for one message, not for a
// batch.
func TestLoneMessageDoesNotWaitForBatch(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	got := make(chan int, 10)
	o := ConsumerOptions{Stream: StreamArticles, Consumer: "t-lone", BatchSize: 100, FetchWait: 5 * time.Minute}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- b.ConsumeBatch(ctx, o, func(_ context.Context, ms []Msg) error { got <- len(ms); return nil })
	}()
	checkFor(t, 10*time.Second, func() error {
		_, err := b.js.Consumer(t.Context(), StreamArticles, "t-lone")
		return err
	})
	for i := range 3 {
		// Let the loop settle into its wait, then send one message.
		time.Sleep(200 * time.Millisecond)
		if err := b.Publish(t.Context(), ArticleSubject("lone"), strconv.Itoa(i), []byte("x")); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-got:
			if n != 1 {
				t.Errorf("batch of %d, want the lone message", n)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("lone message %d not handled within 30s; the pull waits up to %s", i, o.FetchWait)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// With Linger, a batch that starts with one message waits for those that
// come soon after it, and takes them along.
func TestLingerGathersABatch(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	got := make(chan int, 10)
	o := ConsumerOptions{Stream: StreamArticles, Consumer: "t-linger", BatchSize: 100, Linger: 3 * time.Second}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- b.ConsumeBatch(ctx, o, func(_ context.Context, ms []Msg) error { got <- len(ms); return nil })
	}()
	checkFor(t, 10*time.Second, func() error {
		_, err := b.js.Consumer(t.Context(), StreamArticles, "t-linger")
		return err
	})
	const n = 4
	for i := range n {
		if err := b.Publish(t.Context(), ArticleSubject("linger"), strconv.Itoa(i), []byte("x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case k := <-got:
		if k != n {
			t.Errorf("first batch of %d messages, want the %d sent within the linger", k, n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no batch within 30s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runCluster starts a three-server JetStream cluster and returns its
// servers by name.
func runCluster(t *testing.T) map[string]*server.Server {
	t.Helper()
	routes := make([]int, 3)
	var urls []*url.URL
	for i := range routes {
		routes[i] = freePort(t)
		urls = append(urls, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", routes[i])})
	}
	out := map[string]*server.Server{}
	for i := range routes {
		name := fmt.Sprintf("s%d", i+1)
		s, err := server.NewServer(&server.Options{ServerName: name, Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "newsflow-test", Host: "127.0.0.1", Port: routes[i]},
			Routes:  urls})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(s.Shutdown)
		out[name] = s
	}
	for _, s := range out {
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatal("cluster server did not start")
		}
	}
	return out
}

// lead makes server the leader of the stream or consumer ("STREAM",
// "NEWS_RAW" or "CONSUMER", "NEWS_RAW.name").
func lead(t *testing.T, b *Bus, kind, name, server string) {
	t.Helper()
	checkFor(t, 30*time.Second, func() error {
		var info *jetstream.ClusterInfo
		if kind == "STREAM" {
			st, err := b.js.Stream(t.Context(), name)
			if err != nil {
				return err
			}
			si, err := st.Info(t.Context())
			if err != nil {
				return err
			}
			info = si.Cluster
		} else {
			stream, consumer, _ := strings.Cut(name, ".")
			c, err := b.js.Consumer(t.Context(), stream, consumer)
			if err != nil {
				return err
			}
			ci, err := c.Info(t.Context())
			if err != nil {
				return err
			}
			info = ci.Cluster
		}
		if info != nil && info.Leader == server {
			return nil
		}
		req := fmt.Sprintf(`{"placement":{"preferred":%q}}`, server)
		_, err := b.nc.Request("$JS.API."+kind+".LEADER.STEPDOWN."+name, []byte(req), 5*time.Second)
		return fmt.Errorf("%s %s led by %+v, want %s (stepdown: %v)", kind, name, info, server, err)
	})
}

// After the stream leader of a three-server cluster dies, both kinds of
// consume loop handle new messages again within seconds: the pull
// heartbeat notices the silent pull and the client reconnects at once.
func TestConsumeResumesAfterLeaderDies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a three-server cluster")
	}
	servers := runCluster(t)
	var clientURLs []string
	for _, s := range servers {
		clientURLs = append(clientURLs, s.ClientURL())
	}
	// The cluster takes a while to elect its meta leader.
	var b *Bus
	checkFor(t, 60*time.Second, func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		var err error
		b, err = Connect(ctx, Options{URL: clientURLs[0] + "," + clientURLs[1] + "," + clientURLs[2],
			Replicas: 3, Logger: testLogger(t)})
		return err
	})
	t.Cleanup(b.Close)

	var mu sync.Mutex
	last := map[string]int{} // the highest message number each loop handled
	seen := func(loop string, ms ...Msg) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range ms {
			n, _ := strconv.Atoi(string(m.Data))
			last[loop] = max(last[loop], n)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 2)
	go func() {
		done <- b.Consume(ctx, ConsumerOptions{Stream: StreamRaw, Consumer: "t-one"},
			func(_ context.Context, m Msg) error { seen("one", m); return nil })
	}()
	go func() {
		done <- b.ConsumeBatch(ctx, ConsumerOptions{Stream: StreamRaw, Consumer: "t-batch"},
			func(_ context.Context, ms []Msg) error { seen("batch", ms...); return nil })
	}()
	var sent atomic.Int64
	go func() {
		for i := 1; ctx.Err() == nil; i++ {
			for ctx.Err() == nil && b.Publish(ctx, RawSubject("c"), strconv.Itoa(i), []byte(strconv.Itoa(i))) != nil {
				time.Sleep(50 * time.Millisecond)
			}
			sent.Store(int64(i))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	flowing := func(after int) func() error {
		return func() error {
			mu.Lock()
			defer mu.Unlock()
			if last["one"] <= after || last["batch"] <= after {
				return fmt.Errorf("handled up to %v, want past %d (%d sent)", last, after, sent.Load())
			}
			return nil
		}
	}
	checkFor(t, 30*time.Second, flowing(10))

	// The worst case: the stream and both consumers are led by a server
	// the client is not connected to, so no reconnect hides the loss of
	// the pulls parked on it.
	var leader string
	for name := range servers {
		if name != b.nc.ConnectedServerName() {
			leader = name
			break
		}
	}
	lead(t, b, "STREAM", StreamRaw, leader)
	lead(t, b, "CONSUMER", StreamRaw+".t-one", leader)
	lead(t, b, "CONSUMER", StreamRaw+".t-batch", leader)
	checkFor(t, 30*time.Second, flowing(int(sent.Load())))
	killedAt, mark := time.Now(), int(sent.Load())
	servers[leader].Shutdown()
	checkFor(t, 15*time.Second, flowing(mark))
	t.Logf("stream leader %s killed after message %d; both loops handled newer messages %s later",
		leader, mark, time.Since(killedAt).Round(time.Millisecond))
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// While a batch is held through an outage longer than AckWait, the
// messages fetched with it but left out of it (the one carried over for
// BatchBytes, the rest of the queue) stay in progress: a second loop on the
// same consumer is not handed them again.
func TestOutageKeepsCarriedMessagesInProgress(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	for i := range 3 {
		if err := b.Publish(t.Context(), ArticleSubject("carry"), strconv.Itoa(i), bytes.Repeat([]byte{'x'}, 600)); err != nil {
			t.Fatal(err)
		}
	}
	var down atomic.Bool
	down.Store(true)
	var failures, redelivered, handled atomic.Int32
	o := ConsumerOptions{Stream: StreamArticles, Consumer: "t-carry", BatchBytes: 1000, AckWait: time.Second,
		MaxPause: 250 * time.Millisecond}
	h := func(_ context.Context, ms []Msg) error {
		for _, m := range ms {
			if m.Deliveries > 1 {
				redelivered.Add(1)
			}
		}
		if down.Load() {
			failures.Add(1)
			return tempErr{errors.New("database down")}
		}
		handled.Add(int32(len(ms)))
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 2)
	go func() { done <- b.ConsumeBatch(ctx, o, h) }()
	checkFor(t, 10*time.Second, func() error {
		if failures.Load() == 0 {
			return errors.New("the first loop has not tried its batch yet")
		}
		return nil
	})
	go func() { done <- b.ConsumeBatch(ctx, o, h) }()
	// Three ack waits: a message not kept in progress is delivered again.
	time.Sleep(3 * o.AckWait)
	down.Store(false)
	checkFor(t, 10*time.Second, func() error {
		if n := handled.Load(); n < 3 {
			return fmt.Errorf("%d of 3 messages handled", n)
		}
		return nil
	})
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := redelivered.Load(); n > 0 {
		t.Errorf("%d deliveries of messages held in progress during the outage", n)
	}
}

// reloading is a consumer whose server answers "not found" for its first
// infos, as a JetStream that restarts does until it has reloaded its
// streams and consumers from disk.
type reloading struct {
	jetstream.Consumer
	notFound int
	infos    int
}

func (c *reloading) Info(context.Context) (*jetstream.ConsumerInfo, error) {
	c.infos++
	if c.infos <= c.notFound {
		return nil, jetstream.ErrConsumerNotFound
	}
	return &jetstream.ConsumerInfo{}, nil
}

// A consumer that is not found once, while JetStream reloads, is not gone;
// one still not found when asked again is.
func TestGoneAsksTwice(t *testing.T) {
	if gone(t.Context(), &reloading{notFound: 1}) {
		t.Error("a consumer not found once, then found, is gone")
	}
	if !gone(t.Context(), &reloading{notFound: 2}) {
		t.Error("a consumer not found twice is not gone")
	}
	if gone(t.Context(), &reloading{}) {
		t.Error("a consumer found is gone")
	}
}
