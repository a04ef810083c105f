package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// freePorts returns n loopback ports free right now, chosen up front so that
// servers started later can name each other, as nats-server's own cluster
// tests do with fixed ports.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// cluster is three JetStream servers routed to each other on loopback,
// started when the test says.
type cluster struct {
	opts    []*server.Options
	servers []*server.Server
	url     string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	client, routePorts := freePorts(t, 3), freePorts(t, 3)
	var routes []*url.URL
	for _, p := range routePorts {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	c := &cluster{servers: make([]*server.Server, 3)}
	var urls []string
	for i := range 3 {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: client[i],
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "newsflow-test", Host: "127.0.0.1", Port: routePorts[i]},
			Routes:  routes,
		})
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", client[i]))
	}
	c.url = strings.Join(urls, ",")
	t.Cleanup(func() {
		for _, s := range c.servers {
			if s != nil {
				s.Shutdown()
			}
		}
	})
	return c
}

// start starts the servers numbered which (from 0), or all of them.
func (c *cluster) start(t *testing.T, which ...int) {
	t.Helper()
	if len(which) == 0 {
		which = []int{0, 1, 2}
	}
	for _, i := range which {
		s, err := server.NewServer(c.opts[i])
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		c.servers[i] = s
	}
	for _, i := range which {
		if !c.servers[i].ReadyForConnections(30 * time.Second) {
			t.Fatalf("server %d did not start", i+1)
		}
	}
}

func startedCluster(t *testing.T) *cluster {
	c := newCluster(t)
	c.start(t)
	return c
}

func streamConfig(t *testing.T, b *Bus, name string) jetstream.StreamConfig {
	t.Helper()
	s, err := b.js.Stream(t.Context(), name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	return s.CachedInfo().Config
}

// allStreams are the streams behind every stream and bucket newsflow makes.
var allStreams = []string{StreamRaw, StreamArticles, StreamParked, "OBJ_" + BucketBodies, "KV_" + BucketFeeds, "KV_" + BucketSeen, "KV_" + BucketRegistry}

// Issue 8: after R3 setup, a command connecting with replicas 1 (as
// `parked list` did) must leave every stream and bucket at R3, and a limit
// an operator lowered stays lowered even for a command given retention.
func TestSetupNeverLowers(t *testing.T) {
	c := startedCluster(t)
	r := DefaultRetention()
	b, err := Connect(t.Context(), Options{URL: c.url, Replicas: 3, Retention: &r, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, _, err := b.FeedStores(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.FeedRegistry(t.Context()); err != nil {
		t.Fatal(err)
	}
	// An operator keeps raw pages one day only, and parked messages longer.
	raw := streamConfig(t, b, StreamRaw)
	raw.MaxAge = 24 * time.Hour
	parked := streamConfig(t, b, StreamParked)
	parked.MaxBytes = 4 << 30
	for _, cfg := range []jetstream.StreamConfig{raw, parked} {
		if _, err := b.js.UpdateStream(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
	}

	for _, o := range []Options{
		{URL: c.url, Logger: testLogger(t)},                // parked list, replay: no replicas, no retention
		{URL: c.url, Retention: &r, Logger: testLogger(t)}, // a role run without --replicas
	} {
		one, err := Connect(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := one.FeedStores(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := one.FeedRegistry(t.Context()); err != nil {
			t.Fatal(err)
		}
		one.Close()
		for _, name := range allStreams {
			if got := streamConfig(t, b, name).Replicas; got != 3 {
				t.Errorf("retention given=%v: %s has %d replicas after a connect with 1, want 3", o.Retention != nil, name, got)
			}
		}
		if got := streamConfig(t, b, StreamRaw).MaxAge; got != 24*time.Hour {
			t.Errorf("retention given=%v: %s max age %s, want the operator's 24h", o.Retention != nil, StreamRaw, got)
		}
		if got := streamConfig(t, b, StreamParked).MaxBytes; got != 4<<30 {
			t.Errorf("retention given=%v: %s max bytes %d, want the operator's %d", o.Retention != nil, StreamParked, got, 4<<30)
		}
	}
}

func TestMerge(t *testing.T) {
	day := 24 * time.Hour
	w := func(replicas int, age time.Duration) want {
		return want{replicas: replicas, limits: &Limits{MaxAge: age, MaxBytes: 1 << 30}}
	}
	owned := map[string]string{metaMaxAge: (7 * day).String(), metaMaxBytes: "1073741824"}
	for _, tc := range []struct {
		name     string
		have     jetstream.StreamConfig
		want     want
		replicas int
		age      time.Duration
		bytes    int64
		changed  bool
		ownsAge  bool
	}{
		{"lower replicas asked", jetstream.StreamConfig{Replicas: 3, MaxAge: 7 * day, MaxBytes: 1 << 30, Metadata: owned}, w(1, 7*day), 3, 7 * day, 1 << 30, false, true},
		{"raise replicas", jetstream.StreamConfig{Replicas: 1, MaxAge: 7 * day, MaxBytes: 1 << 30, Metadata: owned}, w(3, 7*day), 3, 7 * day, 1 << 30, true, true},
		{"own limit changed by config", jetstream.StreamConfig{Replicas: 1, MaxAge: 7 * day, MaxBytes: 1 << 30, Metadata: owned}, w(1, 30*day), 1, 30 * day, 1 << 30, true, true},
		{"operator lowered age", jetstream.StreamConfig{Replicas: 1, MaxAge: day, MaxBytes: 1 << 30, Metadata: owned}, w(1, 7*day), 1, day, 1 << 30, false, false},
		{"operator raised age", jetstream.StreamConfig{Replicas: 1, MaxAge: 90 * day, MaxBytes: 1 << 30, Metadata: owned}, w(1, 7*day), 1, 90 * day, 1 << 30, false, false},
		{"unlimited stream of an older newsflow", jetstream.StreamConfig{Replicas: 1, MaxBytes: -1}, w(1, 7*day), 1, 7 * day, 1 << 30, true, true},
		{"limit without a record (NATS 2.9)", jetstream.StreamConfig{Replicas: 1, MaxAge: day, MaxBytes: -1}, w(1, 7*day), 1, day, 1 << 30, true, false},
		{"no retention given", jetstream.StreamConfig{Replicas: 1, MaxAge: day, MaxBytes: 5}, want{replicas: 1}, 1, day, 5, false, false},
		{"operator removed a limit", jetstream.StreamConfig{Replicas: 1, MaxBytes: -1, Metadata: map[string]string{metaMaxAge: setByOperator}}, w(1, 7*day), 1, 0, 1 << 30, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changes, _ := merge(tc.have, tc.want)
			if got.Replicas != tc.replicas || got.MaxAge != tc.age || got.MaxBytes != tc.bytes {
				t.Errorf("got replicas %d, age %s, bytes %d; want %d, %s, %d", got.Replicas, got.MaxAge, got.MaxBytes, tc.replicas, tc.age, tc.bytes)
			}
			if (len(changes) > 0) != tc.changed {
				t.Errorf("changes %q, want changed=%v", changes, tc.changed)
			}
			if own := got.Metadata[metaMaxAge] == got.MaxAge.String(); tc.want.limits != nil && own != tc.ownsAge {
				t.Errorf("metadata %v: max age recorded as newsflow's=%v, want %v", got.Metadata, own, tc.ownsAge)
			}
			if again, changes, _ := merge(got, tc.want); again.MaxAge != got.MaxAge || len(changes) > 0 {
				t.Errorf("a second merge changes %q (max age %s -> %s)", changes, got.MaxAge, again.MaxAge)
			}
			if got.MaxAge > 0 && got.Duplicates > got.MaxAge {
				t.Errorf("duplicate window %s longer than max age %s", got.Duplicates, got.MaxAge)
			}
		})
	}
}

// Every stream and bucket gets the retention asked for, S2 compression on
// servers that have it (2.10 and later) and none on 2.9.
func TestRetentionAndCompression(t *testing.T) {
	for name, open := range servers(t) {
		t.Run(name, func(t *testing.T) {
			b := open(t)
			if _, _, err := b.FeedStores(t.Context()); err != nil {
				t.Fatal(err)
			}
			if _, err := b.FeedRegistry(t.Context()); err != nil {
				t.Fatal(err)
			}
			r := DefaultRetention()
			limits := map[string]Limits{StreamRaw: r.Raw, StreamArticles: r.Articles, StreamParked: r.Parked,
				"OBJ_" + BucketBodies: r.Bodies, "KV_" + BucketSeen: r.Seen}
			s2 := serverAtLeast(b.nc.ConnectedServerVersion(), 2, 10)
			t.Logf("server %s: compression expected %v", b.nc.ConnectedServerVersion(), s2)
			for _, stream := range allStreams {
				cfg := streamConfig(t, b, stream)
				if l, ok := limits[stream]; ok && (cfg.MaxAge != l.MaxAge || cfg.MaxBytes != l.MaxBytes) {
					t.Errorf("%s: max age %s, max bytes %d; want %s, %d", stream, cfg.MaxAge, cfg.MaxBytes, l.MaxAge, l.MaxBytes)
				}
				if got := cfg.Compression == jetstream.S2Compression; got != s2 {
					t.Errorf("%s: compression %s on server %s", stream, cfg.Compression, b.nc.ConnectedServerVersion())
				}
			}
			if cfg := streamConfig(t, b, "KV_"+BucketSeen); cfg.Discard != jetstream.DiscardOld {
				t.Errorf("seen bucket discards %s at its size limit, want old ids dropped", cfg.Discard)
			}
			// The limits work: a raw stream of 1 MiB keeps its newest pages.
			// Servers before 2.10 keep no stream metadata, so newsflow cannot
			// tell its own limits from an operator's there: it changes none.
			r.Raw = Limits{MaxAge: time.Hour, MaxBytes: 1 << 20}
			b.retention = &r
			if err := b.setup(t.Context()); err != nil {
				t.Fatal(err)
			}
			if !s2 {
				if got := streamConfig(t, b, StreamRaw).MaxBytes; got != DefaultRetention().Raw.MaxBytes {
					t.Fatalf("NATS %s: raw max bytes changed to %d", b.nc.ConnectedServerVersion(), got)
				}
				return
			}
			page := bytes.Repeat([]byte{'x'}, 100<<10)
			for i := range 20 {
				if err := b.Publish(t.Context(), RawSubject("r"), fmt.Sprintf("page-%d", i), page); err != nil {
					t.Fatal(err)
				}
			}
			s, _ := b.js.Stream(t.Context(), StreamRaw)
			info, err := s.Info(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Bytes > 1<<20 || info.State.LastSeq != 20 {
				t.Errorf("raw stream holds %d bytes up to seq %d, want at most 1 MiB ending at 20", info.State.Bytes, info.State.LastSeq)
			}
		})
	}
}

func TestServerAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"2.9.10": false, "2.10.0": true, "2.15.2": true, "3.0.0": true, "1.99.0": false, "": false, "x": false} {
		if got := serverAtLeast(v, 2, 10); got != want {
			t.Errorf("serverAtLeast(%q, 2.10) = %v", v, got)
		}
	}
}

// A large page's object goes once its message is gone, and not before.
func TestSweepBodies(t *testing.T) {
	b := connectURL(t, runServer(t).ClientURL())
	big := bytes.Repeat([]byte("<p>a long page</p>"), 100_000) // 1.8 MB
	for _, id := range []string{"kept", "gone"} {
		if err := b.Publish(t.Context(), RawSubject(id), id, big); err != nil {
			t.Fatal(err)
		}
	}
	objects := func() []string {
		list, err := b.bodies.List(t.Context())
		if errors.Is(err, jetstream.ErrNoObjectsFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range list {
			names = append(names, strings.SplitN(o.Name, "-", 2)[0])
		}
		return names
	}
	if n, err := b.SweepBodies(t.Context(), 0); err != nil || n != 0 {
		t.Fatalf("sweep with every message present removed %d (err %v), want 0", n, err)
	}
	// The message of "gone" leaves the stream, as by age or size.
	s, _ := b.js.Stream(t.Context(), StreamRaw)
	if err := s.Purge(t.Context(), jetstream.WithPurgeSubject(RawSubject("gone"))); err != nil {
		t.Fatal(err)
	}
	if n, err := b.SweepBodies(t.Context(), time.Hour); err != nil || n != 0 {
		t.Fatalf("sweep within the grace period removed %d (err %v), want 0", n, err)
	}
	if n, err := b.SweepBodies(t.Context(), 0); err != nil || n != 1 {
		t.Fatalf("sweep removed %d (err %v), want the 1 object whose message is gone", n, err)
	}
	if got := objects(); len(got) != 1 || got[0] != "kept" {
		t.Fatalf("objects left %q, want [kept]", got)
	}
}

// Setup against servers that are not up yet, then a cluster still forming
// (two servers of three), waits with a log line and succeeds once the
// cluster is there.
func TestSetupWaitsForCluster(t *testing.T) {
	c := newCluster(t)
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	var b *Bus
	go func() {
		var err error
		b, err = Connect(ctx, Options{URL: c.url, Replicas: 3, Logger: log})
		done <- err
	}()
	eventually(t, "a waiting log line", func() bool { return strings.Contains(logs.String(), "waiting for JetStream") })
	select {
	case err := <-done:
		t.Fatalf("Connect returned before any server started: %v", err)
	default:
	}
	// Two servers of three: JetStream answers, but cannot place three
	// replicas yet.
	c.start(t, 0, 1)
	eventually(t, "a JetStream error while the cluster forms", func() bool {
		return strings.Count(logs.String(), "waiting for JetStream") > strings.Count(logs.String(), "no NATS server answers")
	})
	select {
	case err := <-done:
		t.Fatalf("Connect returned with two servers of three: %v", err)
	default:
	}
	c.start(t, 2)
	if err := <-done; err != nil {
		t.Fatalf("Connect: %v\nlog:\n%s", err, logs.String())
	}
	defer b.Close()
	if got := streamConfig(t, b, StreamRaw).Replicas; got != 3 {
		t.Errorf("%s has %d replicas, want 3", StreamRaw, got)
	}
	t.Logf("log:\n%s", logs.String())
}

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

// The embedded server's errors reach newsflow's log; its notices at debug.
func TestEmbeddedServerLogs(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b, err := Connect(t.Context(), Options{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// A client with a wrong token: the server logs an authorization error.
	conn, err := net.Dial("tcp", strings.TrimPrefix(b.srv.ClientURL(), "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT {\"auth_token\":\"wrong\",\"verbose\":false}\r\nPING\r\n")
	eventually(t, "the server's authorization error in newsflow's log", func() bool {
		return strings.Contains(logs.String(), `level=ERROR msg="127.0.0.1`) && strings.Contains(logs.String(), "authentication error")
	})
	if !strings.Contains(logs.String(), "level=DEBUG msg=\"Starting nats-server\"") {
		t.Errorf("the server's start notice is not logged at debug:\n%s", logs.String())
	}
}

// The data folder, its JetStream folder and nats.url are the user's alone,
// also when they existed with wider modes.
func TestDataFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(filepath.Join(dir, "jetstream"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, urlFileName), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Connect(t.Context(), Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "jetstream"): 0o700, filepath.Join(dir, urlFileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %#o, want %#o", path, fi.Mode().Perm(), want)
		}
	}
}

// An embedded server that cannot start JetStream (its folder is a file
// here) fails Connect with the server's reason, instead of being waited for.
func TestEmbeddedFatalReported(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "jetstream"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jetstream", "jetstream"), []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	b, err := Connect(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err == nil {
		b.Close()
		t.Fatal("Connect succeeded without a usable JetStream folder")
	}
	if ctx.Err() != nil || !strings.Contains(err.Error(), "JetStream") {
		t.Fatalf("Connect: %v (after waiting: %v), want the server's reason", err, ctx.Err())
	}
	t.Log(err)
}

// A second connect with the same settings changes nothing: no stream
// update (an update of a replicated stream is not free).
func TestSetupIdempotent(t *testing.T) {
	for _, r := range []Retention{DefaultRetention(), {}} {
		testSetupIdempotent(t, r)
	}
}

func testSetupIdempotent(t *testing.T, r Retention) {
	url := runServer(t).ClientURL()
	var logs syncBuffer
	for i := range 2 {
		b, err := Connect(t.Context(), Options{URL: url, Retention: &r, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := b.FeedStores(t.Context()); err != nil {
			t.Fatal(err)
		}
		b.Close()
		if i == 0 {
			logs = syncBuffer{}
		}
	}
	if out := logs.String(); strings.Contains(out, "updated") || strings.Contains(out, "created") {
		t.Errorf("retention %+v: the second connect changed streams:\n%s", r, out)
	}
}

// The errors of a server starting or a cluster forming are waited out;
// others end setup.
func TestNotReady(t *testing.T) {
	api := func(code, errCode int) error {
		return fmt.Errorf("bus: stream %s: %w", StreamRaw, &jetstream.APIError{Code: code, ErrorCode: jetstream.ErrorCode(errCode)})
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no peers for placement yet", api(500, 10005), true},
		{"no meta leader yet", api(503, 10009), true},
		// Made a moment ago through one server, asked of another that
		// has not heard of it yet (seen on a cluster that was forming).
		{"stream not found after create", api(404, 10059), true},
		{"stream offline", api(500, 10118), true},
		{"not connected", errNotConnected, true},
		{"request timed out", context.DeadlineExceeded, true},
		{"bad configuration", api(400, 10052), false},
		{"insufficient resources", api(503, 10023), true},
		{"other", errors.New("disk on fire"), false},
	} {
		if got := notReady(tc.err); got != tc.want {
			t.Errorf("%s: notReady(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// S2 compression goes on streams with one replica only: a replicated
// stream is left as it is, even by a command that asks for compression
// (see merge).
func TestMergeCompression(t *testing.T) {
	for _, tc := range []struct {
		name    string
		have    int
		asked   int
		want    jetstream.StoreCompression
		changed bool
	}{
		{"single server", 1, 1, jetstream.S2Compression, true},
		{"raised to three", 1, 3, jetstream.NoCompression, true},
		{"a one-replica command on a replicated stream", 3, 1, jetstream.NoCompression, false},
	} {
		got, changes, _ := merge(jetstream.StreamConfig{Replicas: tc.have}, want{replicas: tc.asked, compress: true})
		if got.Compression != tc.want || (len(changes) > 0) != tc.changed {
			t.Errorf("%s: compression %s, changes %q; want %s, changed=%v", tc.name, got.Compression, changes, tc.want, tc.changed)
		}
	}
}
