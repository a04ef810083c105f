// Package bus is newsflow's one door to NATS: it connects (to an embedded
// server or an external one), defines the streams, consumers, subjects and
// key-value buckets, publishes with Nats-Msg-Id, and runs the consume loop
// that turns a handler's error class into ack, nak with delay, or term.
//
// newsflow supports NATS servers 2.9 and later (JetStream enabled); the
// embedded server is the nats-server module newsflow is built with.
package bus

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options say which NATS to use and how.
type Options struct {
	// URL of an external NATS server or cluster (comma-separated). Empty
	// starts an embedded server with JetStream under DataDir.
	URL string
	// Creds is a NATS credentials file for the external server.
	Creds string
	// DataDir is where the embedded server keeps JetStream's files (in its
	// "jetstream" subfolder).
	DataDir string
	// Join lets a short-lived command (parked, replay) use the embedded
	// server that another newsflow process runs for DataDir, instead of
	// starting its own. Long-lived processes must not join: they would lose
	// NATS when the other process exits.
	Join bool
	// Name is the connection name servers show.
	Name string
	// Replicas of each stream and bucket (1 for a single server, 3 in a
	// cluster). Zero means 1. An existing stream with more keeps them.
	Replicas int
	// Retention is what the streams and buckets keep. Nil leaves the
	// limits of existing ones as they are and creates missing ones with
	// DefaultRetention: commands that are not told any (parked, replay)
	// must not change what the pipeline was told.
	Retention *Retention
	// SweepEvery is how often a long-lived (not Join) connection removes
	// the large payloads whose messages are gone (see SweepBodies): zero
	// means every 10 minutes, negative never.
	SweepEvery time.Duration
	Logger     *slog.Logger
}

// Bus is a connection to NATS JetStream with newsflow's streams in place.
type Bus struct {
	nc        *nats.Conn
	js        jetstream.JetStream
	emb       *embedded      // nil when external
	srv       *server.Server // emb's server
	log       *slog.Logger
	replicas  int
	retention *Retention
	compress  bool // S2-compressed streams: a 2.10 or later server, one replica (see merge)
	bodies    jetstream.ObjectStore
	urlFile   string // written for the embedded server, removed at Close
	closed    chan struct{}
	lock      *os.File // held while the embedded server owns DataDir
	stop      context.CancelFunc
	sweeping  sync.WaitGroup
}

// lockDataDir takes the data folder for this process's embedded server:
// two servers writing one JetStream store would corrupt it.
func lockDataDir(dir string, log *slog.Logger) (*os.File, error) {
	if err := privateDir(dir, log); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "newsflow.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bus: data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("bus: data folder %s is in use by another newsflow process (stop it, or share one NATS with --nats): %w", dir, err)
	}
	return f, nil
}

// closedHandler lets Close wait for the connection's drain to end.
func (b *Bus) closedHandler() nats.Option {
	b.closed = make(chan struct{})
	return nats.ClosedHandler(func(*nats.Conn) { close(b.closed) })
}

// urlFileName is the file in the data folder that tells other newsflow
// processes where the embedded server listens and its token.
const urlFileName = "nats.url"

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func readURLFile(dir string) (url, token string, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, urlFileName))
	if err != nil {
		return "", "", false
	}
	lines := strings.Fields(string(b))
	if len(lines) != 2 {
		return "", "", false
	}
	return lines[0], lines[1], true
}

// Connect connects to NATS (starting the embedded server if no URL is given)
// and creates newsflow's streams and buckets, or raises existing ones to
// what o asks (see Options.Replicas and Options.Retention). A server that
// is not up yet, or a cluster still forming, is waited for until ctx ends.
func Connect(ctx context.Context, o Options) (*Bus, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Name == "" {
		o.Name = "newsflow"
	}
	b := &Bus{log: o.Logger, replicas: o.Replicas, retention: o.Retention}
	nopts := []nats.Option{
		nats.Name(o.Name),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				o.Logger.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { o.Logger.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
	}
	nopts = append(nopts, reconnectOptions(o.Logger)...)
	var err error
	if o.URL == "" {
		if o.DataDir == "" {
			return nil, errors.New("bus: embedded NATS needs a data folder")
		}
		// A short-lived command joins the embedded server that another
		// newsflow process runs for this folder, if one answers.
		if url, token, ok := readURLFile(o.DataDir); ok && o.Join {
			if nc, err := nats.Connect(url, append(nopts, nats.Token(token), b.closedHandler())...); err == nil {
				b.nc, o.URL = nc, url
			}
		}
		if b.nc == nil {
			if b.lock, err = lockDataDir(o.DataDir, o.Logger); err != nil {
				return nil, err
			}
			token := randomToken()
			// After a JetStream restart, reconnecting makes the consumers
			// pull again at once instead of when a heartbeat is missed.
			var conn atomic.Pointer[nats.Conn]
			reconnect := func() {
				if nc := conn.Load(); nc != nil {
					nc.ForceReconnect()
				}
			}
			if b.emb, err = startEmbedded(filepath.Join(o.DataDir, "jetstream"), token, o.Logger, reconnect); err != nil {
				b.Close()
				return nil, err
			}
			b.srv = b.emb.srv
			b.urlFile = filepath.Join(o.DataDir, urlFileName)
			if err := writeURLFile(b.urlFile, b.srv.ClientURL(), token); err != nil {
				o.Logger.Warn("other newsflow commands will not find this embedded server", "err", err)
			}
			nopts = append(nopts, nats.InProcessServer(b.srv), nats.Token(token), b.closedHandler())
			b.nc, err = nats.Connect("", nopts...)
			conn.Store(b.nc)
		}
	} else {
		if o.Creds != "" {
			nopts = append(nopts, nats.UserCredentials(o.Creds))
		}
		// A server not up yet is retried in the background; setup waits.
		nopts = append(nopts, nats.RetryOnFailedConnect(true), b.closedHandler())
		b.nc, err = nats.Connect(o.URL, nopts...)
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: connect to NATS %q: %w", o.URL, err)
	}
	if b.js, err = jetstream.New(b.nc); err != nil {
		b.Close()
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	if err := b.waitSetup(ctx); err != nil {
		b.Close()
		return nil, err
	}
	if !o.Join && o.SweepEvery >= 0 {
		b.startSweeper(cmp.Or(o.SweepEvery, 10*time.Minute))
	}
	return b, nil
}

// errNotConnected is setup's error while the client has no server yet.
var errNotConnected = errors.New("no NATS server answers yet")

// waitSetup runs setup until it succeeds, fails for a reason that waiting
// cannot mend, or ctx ends, with a log line for each wait.
func (b *Bus) waitSetup(ctx context.Context) error {
	delay := 100 * time.Millisecond
	for {
		err := b.setupAttempt(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !notReady(err) {
			return err
		}
		b.log.Warn("waiting for JetStream: "+err.Error(), "retry_in", delay)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// setupAttempt is one try of setup, bounded so that a request lost in a
// forming cluster is tried again rather than waited for until ctx ends.
func (b *Bus) setupAttempt(ctx context.Context) error {
	if !b.nc.IsConnected() {
		err := fmt.Errorf("bus: %w (%s)", errNotConnected, strings.Join(b.nc.Opts.Servers, ","))
		if last := b.nc.LastError(); last != nil {
			err = fmt.Errorf("%w: %v", err, last)
		}
		return err
	}
	b.compress = serverAtLeast(b.nc.ConnectedServerVersion(), 2, 10) && b.replicas <= 1
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return b.setup(ctx)
}

// notReady reports whether err is one that a server starting or a cluster
// forming gives, so that waiting may mend it.
func notReady(err error) bool {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode {
		case 10005, // no suitable peers for placement (yet)
			10009, // the cluster cannot handle the request (no leader yet)
			10059, // stream not found: made a moment ago, and the server
			// that answered has not heard of it yet; or deleted, and the next
			// attempt makes it again
			10118: // stream offline
			return true
		}
		return api.Code == 503 // JetStream (temporarily) unavailable
	}
	return errors.Is(err, errNotConnected) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrDisconnected) ||
		errors.Is(err, nats.ErrConnectionReconnecting)
}

// serverAtLeast reports whether version ("2.10.3") is major.minor or later.
func serverAtLeast(version string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(version, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// JetStream is the JetStream context, for buckets and tools.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Conn is the NATS connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Close drains the connection and, when embedded, shuts the server down.
func (b *Bus) Close() {
	if b.stop != nil {
		b.stop()
		b.sweeping.Wait()
	}
	if b.nc != nil {
		if err := b.nc.Drain(); err != nil {
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-time.After(30 * time.Second):
			b.nc.Close()
		}
	}
	if b.urlFile != "" {
		os.Remove(b.urlFile)
	}
	if b.emb != nil {
		b.emb.shutdown()
	}
	if b.lock != nil {
		b.lock.Close() // releases the flock
	}
}
