package bus

import (
	"context"
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
)

// embedded is the NATS server newsflow runs in-process when it is given no
// URL, with what it takes to keep it writing after its disk filled up.
type embedded struct {
	srv      *server.Server
	storeDir string
	log      *slog.Logger
	// stuck is set when the server reports a write that failed for lack
	// of space: nats-server 2.15 then refuses every later write to that
	// stream (its file store keeps the error) or shuts JetStream down, and
	// only a restart of JetStream clears either.
	stuck atomic.Bool
	// restarted is called after JetStream restarted: the server forgot
	// the pull requests of consumers in flight.
	restarted func()
	stop      chan struct{}
	done      sync.WaitGroup
}

// storeErrors are what nats-server logs when its store cannot write.
var storeErrors = []string{"no space left", "Critical write error", "will be DISABLED", "disabling JetStream"}

// serverLog passes the embedded server's log to newsflow's logger: errors
// and warnings as they are, notices and debug lines at debug level.
type serverLog struct {
	log     *slog.Logger
	onError func(msg string)
	// fatal keeps the first fatal message: the server expects its logger
	// to exit on one, and newsflow reports it instead.
	fatal *atomic.Pointer[string]
}

func (l serverLog) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLog) Debugf(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLog) Tracef(format string, v ...any)  {}
func (l serverLog) Warnf(format string, v ...any) {
	l.report(slog.LevelWarn, fmt.Sprintf(format, v...))
}
func (l serverLog) Errorf(format string, v ...any) {
	l.report(slog.LevelError, fmt.Sprintf(format, v...))
}
func (l serverLog) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.fatal.CompareAndSwap(nil, &msg)
	l.report(slog.LevelError, msg)
}

func (l serverLog) report(level slog.Level, msg string) {
	l.log.Log(context.Background(), level, msg)
	if l.onError != nil {
		l.onError(msg)
	}
}

// startEmbedded starts a NATS server with JetStream in storeDir. Besides the
// in-process connection it listens on a random loopback port, guarded by
// token, so that short-lived newsflow commands on this machine (parked,
// replay) can reach it while `run` holds the folder. It logs through log,
// and restarts JetStream when its disk filled and has room again, calling
// restarted afterwards.
func startEmbedded(storeDir, token string, log *slog.Logger, restarted func()) (*embedded, error) {
	if err := privateDir(storeDir, log); err != nil {
		return nil, err
	}
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
		NoLog:      true, // no logger of its own: it gets serverLog below
	})
	if err != nil {
		return nil, fmt.Errorf("bus: embedded NATS: %w", err)
	}
	e := &embedded{srv: srv, storeDir: storeDir, stop: make(chan struct{}), restarted: restarted,
		log: log.With("component", "nats-server")}
	var fatal atomic.Pointer[string]
	srv.SetLoggerV2(serverLog{log: e.log, onError: e.noticeError, fatal: &fatal}, log.Enabled(context.Background(), slog.LevelDebug), false, false)
	srv.Start()
	ready := false
	for deadline := time.Now().Add(30 * time.Second); !ready && fatal.Load() == nil && time.Now().Before(deadline); {
		ready = srv.ReadyForConnections(100 * time.Millisecond)
	}
	if !ready || fatal.Load() != nil {
		srv.Shutdown()
		why := "did not start"
		if msg := fatal.Load(); msg != nil {
			why = *msg
		}
		return nil, fmt.Errorf("bus: embedded NATS (JetStream store %s): %s", storeDir, why)
	}
	e.done.Add(1)
	go e.watch(time.Second)
	return e, nil
}

func (e *embedded) noticeError(msg string) {
	for _, s := range storeErrors {
		if strings.Contains(msg, s) {
			e.stuck.Store(true)
			return
		}
	}
}

// minFree is the free space the store's disk needs before JetStream is
// restarted after it filled up.
const minFree = 4 << 20

// restartSpacing keeps a store that fails at once again from being
// restarted in a loop.
const restartSpacing = 5 * time.Second

// watch restarts JetStream when it stopped writing for lack of space and
// the disk has room again, so that newsflow resumes without a restart.
func (e *embedded) watch(every time.Duration) {
	defer e.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		disabled := !e.srv.JetStreamEnabled()
		if !disabled && !e.stuck.Load() {
			continue
		}
		free, err := freeSpace(e.storeDir)
		if err != nil || free < minFree || time.Since(last) < restartSpacing {
			continue
		}
		last = time.Now()
		e.stuck.Store(false)
		e.log.Warn("restarting JetStream: its store could not write (disk full?) and the disk has room again",
			"store", e.storeDir, "free_bytes", free, "was_disabled", disabled)
		if err := e.restartJetStream(); err != nil {
			e.log.Error("JetStream did not restart; trying again", "err", err)
			e.stuck.Store(true)
			continue
		}
		e.log.Info("JetStream restarted")
		if e.restarted != nil {
			e.restarted()
		}
	}
}

// restartJetStream shuts JetStream down (keeping its files) and starts it
// again with the configuration Start gave it: the streams reload their
// files and forget the write error.
func (e *embedded) restartJetStream() error {
	if e.srv.JetStreamEnabled() {
		if err := e.srv.ShutdownJetStream(); err != nil {
			return err
		}
	}
	return e.srv.EnableJetStream(&server.JetStreamConfig{StoreDir: e.storeDir, SyncAlways: true, Strict: true, CompressOK: true})
}

func (e *embedded) shutdown() {
	close(e.stop)
	e.done.Wait()
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

func freeSpace(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// privateDir creates dir readable by its owner only, and takes group and
// others' access away from one that exists.
func privateDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("bus: data folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("bus: data folder: %w", err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		if err := os.Chmod(dir, mode&^0o077); err != nil {
			return fmt.Errorf("bus: make %s private: %w", dir, err)
		}
		log.Info("made folder private to its owner", "dir", dir, "was", fmt.Sprintf("%#o", mode))
	}
	return nil
}

// writeURLFile writes the embedded server's address and token, readable by
// the owner only, replacing any earlier file (and its mode) at once.
func writeURLFile(path, url, token string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".nats.url-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(url + "\n" + token + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
