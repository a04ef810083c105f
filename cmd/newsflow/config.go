package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
)

// config is what `newsflow run` and the single-role commands are told, from
// flags or, where a flag is not given, the environment.
type config struct {
	feeds        string
	feedList     []ingest.Feed // read from feeds at start
	dataDir      string
	natsURL      string
	natsCreds    string
	store        string
	allowPrivate bool
	interval     time.Duration
	minInterval  time.Duration // zero: the default, derived from interval
	maxInterval  time.Duration
	workers      int
	replicas     int
	retention    bus.Retention
	maxDeliver   int
	ackWait      time.Duration
	logLevel     slog.Level
	httpAddr     string
	roles        []string
}

// envFlags binds flags whose defaults come from environment variables, and
// remembers which variable each flag reads so that errors can name it.
type envFlags struct {
	fs   *flag.FlagSet
	errs []error
}

func (e *envFlags) str(p *string, name, env, def, usage string) {
	if v, ok := os.LookupEnv(env); ok {
		def = v
	}
	e.fs.StringVar(p, name, def, usage+" ($"+env+")")
}

func (e *envFlags) boolean(p *bool, name, env string, def bool, usage string) {
	if v, ok := os.LookupEnv(env); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("$%s: %q is not true or false", env, v))
		}
		def = b
	}
	e.fs.BoolVar(p, name, def, usage+" ($"+env+")")
}

func (e *envFlags) integer(p *int, name, env string, def int, usage string) {
	if v, ok := os.LookupEnv(env); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("$%s: %q is not a whole number", env, v))
		}
		def = n
	}
	e.fs.IntVar(p, name, def, usage+" ($"+env+")")
}

func (e *envFlags) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v, ok := os.LookupEnv(env); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("$%s: %q is not a duration such as 15m", env, v))
		}
		def = d
	}
	e.fs.DurationVar(p, name, def, usage+" ($"+env+")")
}

// replicas binds --replicas, which every command that connects to NATS
// reads: none may make a stream with fewer replicas than asked.
func (e *envFlags) replicas(p *int) {
	e.integer(p, "replicas", "NEWSFLOW_REPLICAS", 1, "stream and bucket replicas (3 in a NATS cluster); existing ones with more keep theirs")
}

func checkReplicas(n int) []error {
	if n < 1 || n > 5 {
		return []error{fmt.Errorf("--replicas: %d is not between 1 and 5", n)}
	}
	return nil
}

// parseConfig reads the flags of a pipeline command. roles are the stages it
// runs; the feeds file is needed only with the ingest role.
func parseConfig(name string, args []string, roles []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var level string
	if slices.Contains(roles, "ingest") {
		e.str(&c.feeds, "feeds", "NEWSFLOW_FEEDS", "", "feed list: an OPML file or a text file of feed URLs, one a line")
		e.boolean(&c.allowPrivate, "allow-private-networks", "NEWSFLOW_ALLOW_PRIVATE_NETWORKS", false, "allow fetching from private-network and loopback addresses")
		e.duration(&c.interval, "interval", "NEWSFLOW_INTERVAL", 15*time.Minute, "how often a feed is polled when it gives no better signal of how often it changes")
		e.duration(&c.minInterval, "min-interval", "NEWSFLOW_MIN_INTERVAL", 0, "shortest interval chosen from a feed's own signals (default the shorter of 5m and --interval)")
		e.duration(&c.maxInterval, "max-interval", "NEWSFLOW_MAX_INTERVAL", 0, "longest interval chosen from a feed's own signals (default the longer of 24h and --interval)")
	}
	e.str(&c.dataDir, "data", "NEWSFLOW_DATA", "newsflow-data", "data folder: the embedded NATS server's JetStream files and the SQLite database")
	e.str(&c.natsURL, "nats", "NATS_URL", "", "external NATS server URL(s); empty runs an embedded server")
	e.str(&c.natsCreds, "nats-creds", "NATS_CREDS", "", "NATS credentials file for --nats")
	if slices.Contains(roles, "store") {
		e.str(&c.store, "store", "NEWSFLOW_STORE", "", "database: a postgres:// URL or libpq key=value string, or a SQLite file (default DATA/newsflow.db)")
	}
	if slices.Contains(roles, "process") {
		e.integer(&c.workers, "workers", "NEWSFLOW_WORKERS", defaultWorkers(), "processor workers (default two per core, at most 16)")
	}
	e.replicas(&c.replicas)
	e.retentionFlags(&c.retention)
	e.integer(&c.maxDeliver, "max-deliver", "NEWSFLOW_MAX_DELIVER", 5, "deliveries of a failing message before it is parked")
	e.duration(&c.ackWait, "ack-wait", "NEWSFLOW_ACK_WAIT", 15*time.Second, "how long a message held by a crashed worker waits before another gets it")
	e.str(&c.httpAddr, "http", "NEWSFLOW_HTTP", "", "serve /livez, /readyz, /healthz and /metrics on this address (e.g. :8080)")
	e.str(&level, "log-level", "NEWSFLOW_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	c.roles = roles
	errs := e.errs
	if err := c.logLevel.UnmarshalText([]byte(level)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level))
	}
	if slices.Contains(roles, "ingest") {
		if c.feeds == "" {
			errs = append(errs, fmt.Errorf("--feeds: no feed list given (or set $NEWSFLOW_FEEDS)"))
		} else if list, err := loadFeeds(c.feeds); err != nil {
			errs = append(errs, err)
		} else {
			c.feedList = list
		}
		errs = append(errs, c.checkIntervals()...)
	}
	if slices.Contains(roles, "process") && (c.workers < 1 || c.workers > 256) {
		errs = append(errs, fmt.Errorf("--workers: %d is not between 1 and 256", c.workers))
	}
	errs = append(errs, checkReplicas(c.replicas)...)
	errs = append(errs, checkRetention(c.retention)...)
	if c.ackWait < time.Second {
		errs = append(errs, fmt.Errorf("--ack-wait: %s is too short (at least 1s)", c.ackWait))
	}
	if c.maxDeliver < 1 {
		errs = append(errs, fmt.Errorf("--max-deliver: %d must be at least 1", c.maxDeliver))
	}
	if c.natsURL == "" && c.dataDir == "" {
		errs = append(errs, fmt.Errorf("--data: an embedded NATS server needs a data folder"))
	}
	if c.natsCreds != "" && c.natsURL == "" {
		errs = append(errs, fmt.Errorf("--nats-creds: credentials given without --nats"))
	}
	if slices.Contains(roles, "store") && c.store == "" && c.dataDir != "" {
		c.store = filepath.Join(c.dataDir, "newsflow.db")
	}
	if slices.Contains(roles, "store") && c.store == "" {
		errs = append(errs, fmt.Errorf("--store: no database given"))
	}
	if len(errs) > 0 {
		return c, joinLines(errs)
	}
	return c, nil
}

// Defaults of --min-interval and --max-interval, unless --interval lies
// beyond them.
const (
	defaultMinInterval = 5 * time.Minute
	defaultMaxInterval = 24 * time.Hour
)

// checkIntervals fills in the default --min-interval and --max-interval
// and checks that 1s <= min <= interval <= max.
func (c *config) checkIntervals() []error {
	var errs []error
	if c.interval < time.Second {
		errs = append(errs, fmt.Errorf("--interval: %s is too short (at least 1s)", c.interval))
	}
	if c.minInterval == 0 {
		c.minInterval = min(defaultMinInterval, c.interval)
	} else if c.minInterval < time.Second || c.minInterval > c.interval {
		errs = append(errs, fmt.Errorf("--min-interval: %s is not between 1s and --interval %s", c.minInterval, c.interval))
	}
	if c.maxInterval == 0 {
		c.maxInterval = max(defaultMaxInterval, c.interval)
	} else if c.maxInterval < c.interval {
		errs = append(errs, fmt.Errorf("--max-interval: %s is shorter than --interval %s", c.maxInterval, c.interval))
	}
	return errs
}

// joinLines joins errors one a line, for a config with several mistakes.
func joinLines(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return fmt.Errorf("invalid configuration:\n  %s", strings.Join(msgs, "\n  "))
}

// loadFeeds reads the feed list of --feeds, which must name at least one
// feed.
func loadFeeds(path string) ([]ingest.Feed, error) {
	feeds, err := ingest.LoadFeedList(path)
	if err != nil {
		return nil, fmt.Errorf("--feeds ($NEWSFLOW_FEEDS): %w", err)
	}
	if len(feeds) == 0 {
		return nil, fmt.Errorf("--feeds ($NEWSFLOW_FEEDS): %s lists no feeds: give one feed URL a line, or an OPML file", path)
	}
	return feeds, nil
}
