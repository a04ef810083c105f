package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/api"
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
	userAgent    string
	perHost      int
	hostSpacing  time.Duration
	minInterval  time.Duration // zero: the default, derived from interval
	maxInterval  time.Duration
	workers      int
	replicas     int
	retention    bus.Retention
	maxDeliver   int
	ackWait      time.Duration
	logLevel     slog.Level
	logFormat    string
	httpAddr     string
	apiToken     string // from $NEWSFLOW_API_TOKEN(_FILE), read with --http
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

// secret is str, without a default, for a setting that may carry a
// secret such as a password in a URL: its value may instead come from the
// file that $ENV_FILE names (as container secrets are mounted), read at
// start. The value from the environment is not shown as the flag's
// default in -h.
func (e *envFlags) secret(p *string, name, env, usage string) {
	e.fs.StringVar(p, name, "", usage+" ($"+env+" or $"+env+"_FILE)")
	v, _, err := envOrFile(os.LookupEnv, env)
	if err != nil {
		e.errs = append(e.errs, err)
	}
	*p = v
}

// envOrFile returns the value of $env, or the contents of the file that
// $env_FILE names with trailing line breaks trimmed; ok says whether
// either is set. Both set is an error, as is a file that cannot be read.
// lookup is os.LookupEnv in the binary.
func envOrFile(lookup func(string) (string, bool), env string) (v string, ok bool, err error) {
	v, inline := lookup(env)
	file, fromFile := lookup(env + "_FILE")
	switch {
	case inline && fromFile:
		return "", false, fmt.Errorf("$%s and $%s_FILE are both set: set one", env, env)
	case !fromFile:
		return v, inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false, fmt.Errorf("$%s_FILE: %w", env, err)
	}
	return strings.TrimRight(string(b), "\r\n"), true, nil
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
		e.str(&c.feeds, "feeds", "NEWSFLOW_FEEDS", "", "feed list that seeds the feed registry (its feeds are added; none removed): an OPML file or a text file of feed URLs, one a line")
		e.boolean(&c.allowPrivate, "allow-private-networks", "NEWSFLOW_ALLOW_PRIVATE_NETWORKS", false, "allow fetching from private-network and loopback addresses")
		e.duration(&c.interval, "interval", "NEWSFLOW_INTERVAL", 15*time.Minute, "how often a feed is polled when it gives no better signal of how often it changes")
		e.str(&c.userAgent, "user-agent", "NEWSFLOW_USER_AGENT", defaultUserAgent(), "User-Agent of every request: product/version and a contact URL")
		e.integer(&c.perHost, "per-host", "NEWSFLOW_PER_HOST", ingest.DefaultPerHost, "requests in flight to one host at once, over all ingest replicas")
		e.duration(&c.hostSpacing, "host-spacing", "NEWSFLOW_HOST_SPACING", 0, "least time between two requests to one host, over all ingest replicas (a longer robots.txt Crawl-delay wins)")
		e.duration(&c.minInterval, "min-interval", "NEWSFLOW_MIN_INTERVAL", 0, "shortest interval chosen from a feed's own signals (default the shorter of 5m and --interval)")
		e.duration(&c.maxInterval, "max-interval", "NEWSFLOW_MAX_INTERVAL", 0, "longest interval chosen from a feed's own signals (default the longer of 24h and --interval)")
	}
	e.str(&c.dataDir, "data", "NEWSFLOW_DATA", "newsflow-data", "data folder: the embedded NATS server's JetStream files and the SQLite database")
	e.secret(&c.natsURL, "nats", "NATS_URL", "external NATS server URL(s); empty runs an embedded server")
	e.str(&c.natsCreds, "nats-creds", "NATS_CREDS", "", "NATS credentials file for --nats")
	if slices.Contains(roles, "store") {
		e.secret(&c.store, "store", "NEWSFLOW_STORE", "database: a postgres:// URL or libpq key=value string, or a SQLite file (default DATA/newsflow.db)")
	}
	if slices.Contains(roles, "process") {
		e.integer(&c.workers, "workers", "NEWSFLOW_WORKERS", defaultWorkers(), "processor workers (default two per core, at most 16)")
	}
	e.replicas(&c.replicas)
	e.retentionFlags(&c.retention)
	e.integer(&c.maxDeliver, "max-deliver", "NEWSFLOW_MAX_DELIVER", 5, "deliveries of a failing message before it is parked")
	e.duration(&c.ackWait, "ack-wait", "NEWSFLOW_ACK_WAIT", 15*time.Second, "how long a message held by a crashed worker waits before another gets it")
	e.str(&c.httpAddr, "http", "NEWSFLOW_HTTP", "", "serve /livez, /readyz, /healthz, /metrics and the API on this address: PORT (on 127.0.0.1) or HOST:PORT; "+
		"a host other than loopback needs an API token ($NEWSFLOW_API_TOKEN or $NEWSFLOW_API_TOKEN_FILE)")
	e.str(&level, "log-level", "NEWSFLOW_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	e.str(&c.logFormat, "log-format", "NEWSFLOW_LOG_FORMAT", "text", "log format: text (key=value) or json")
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
	if c.logFormat != "text" && c.logFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format ($NEWSFLOW_LOG_FORMAT): %q is not text or json", c.logFormat))
	}
	if c.httpAddr != "" {
		c.httpAddr = listenAddr(c.httpAddr)
		token, err := api.TokenFromEnv(os.LookupEnv)
		if err != nil {
			errs = append(errs, err)
		} else if err := api.CheckAddr(c.httpAddr, token); err != nil {
			errs = append(errs, fmt.Errorf("--http ($NEWSFLOW_HTTP): %w", err))
		}
		c.apiToken = token
	}
	if slices.Contains(roles, "ingest") {
		// Without a list, the feed registry has the feeds (added with
		// `newsflow feeds` or the API).
		if c.feeds != "" {
			list, err := loadFeeds(c.feeds)
			if err != nil {
				errs = append(errs, err)
			}
			c.feedList = list
		}
		errs = append(errs, c.checkIntervals()...)
		if err := ingest.CheckUserAgent(c.userAgent); err != nil {
			errs = append(errs, fmt.Errorf("--user-agent: %w", err))
		}
		if c.perHost < 1 || c.perHost > 64 {
			errs = append(errs, fmt.Errorf("--per-host: %d is not between 1 and 64", c.perHost))
		}
		if c.hostSpacing < 0 || c.hostSpacing > 5*time.Minute {
			errs = append(errs, fmt.Errorf("--host-spacing: %s is not between 0s and 5m", c.hostSpacing))
		}
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

// listenAddr is the address a --http value listens on: a bare port is on
// 127.0.0.1; anything else is host:port as given (":8080" is every
// interface).
func listenAddr(s string) string {
	if _, err := strconv.ParseUint(s, 10, 16); err == nil {
		return net.JoinHostPort("127.0.0.1", s)
	}
	return s
}

// newLogger logs to w in format (text or json) from level on.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// defaultUserAgent names newsflow with the version it was built as, and
// where to find out about it.
func defaultUserAgent() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "newsflow/" + v + " (+https://github.com/newsflow/newsflow)"
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
