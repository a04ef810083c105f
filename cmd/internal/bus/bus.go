// Package bus is newsflow's one door to NATS: it connects (to an embedded
// server or an external one), defines the streams, consumers, subjects and
// key-value buckets, publishes with Nats-Msg-Id, and runs the consume loop
// that turns a handler's error class into ack, nak with delay, or term.
//
// newsflow supports NATS servers 2.9 and later (JetStream enabled); the
// embedded server is the nats-server module newsflow is built with.
package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
	// cluster). Zero means 1.
	Replicas int
	Logger   *slog.Logger
}

// Bus is a connection to NATS JetStream with newsflow's streams in place.
type Bus struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	srv      *server.Server // nil when external
	log      *slog.Logger
	replicas int
	bodies   jetstream.ObjectStore
	urlFile  string // written for the embedded server, removed at Close
	closed   chan struct{}
	lock     *os.File // held while the embedded server owns DataDir
}

// lockDataDir takes the data folder for this process's embedded server:
// two servers writing one JetStream store would corrupt it.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bus: data folder: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "newsflow.lock"), os.O_CREATE|os.O_RDWR, 0o644)
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

func writeURLFile(path, url, token string) error {
	return os.WriteFile(path, []byte(url+"\n"+token+"\n"), 0o600)
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
// and creates or updates newsflow's streams and buckets.
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
	b := &Bus{log: o.Logger, replicas: o.Replicas}
	nopts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
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
			if b.lock, err = lockDataDir(o.DataDir); err != nil {
				return nil, err
			}
			token := randomToken()
			b.srv, err = startEmbedded(filepath.Join(o.DataDir, "jetstream"), token)
			if err != nil {
				return nil, err
			}
			b.urlFile = filepath.Join(o.DataDir, urlFileName)
			if err := writeURLFile(b.urlFile, b.srv.ClientURL(), token); err != nil {
				o.Logger.Warn("other newsflow commands will not find this embedded server", "err", err)
			}
			nopts = append(nopts, nats.InProcessServer(b.srv), nats.Token(token), b.closedHandler())
			b.nc, err = nats.Connect("", nopts...)
		}
	} else {
		if o.Creds != "" {
			nopts = append(nopts, nats.UserCredentials(o.Creds))
		}
		nopts = append(nopts, b.closedHandler())
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
	if err := b.setup(ctx); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// startEmbedded starts a NATS server with JetStream in storeDir. Besides the
// in-process connection it listens on a random loopback port, guarded by
// token, so that short-lived newsflow commands on this machine (parked,
// replay) can reach it while `run` holds the folder.
func startEmbedded(storeDir, token string) (*server.Server, error) {
	srv, err := server.NewServer(&server.Options{
		ServerName:    "newsflow",
		Host:          "127.0.0.1",
		Port:          server.RANDOM_PORT,
		Authorization: token,
		JetStream:     true,
		StoreDir:      storeDir,
		// fsync before every ack: the default (every 2 minutes) can lose
		// acknowledged messages when the machine, not just the process, dies.
		SyncAlways: true,
		NoSigs:     true,
		NoLog:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: embedded NATS: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("bus: embedded NATS did not start (JetStream store %s)", storeDir)
	}
	return srv, nil
}

// JetStream is the JetStream context, for buckets and tools.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Conn is the NATS connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Close drains the connection and, when embedded, shuts the server down.
func (b *Bus) Close() {
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
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	if b.lock != nil {
		b.lock.Close() // releases the flock
	}
}
