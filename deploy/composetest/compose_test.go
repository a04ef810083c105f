// Package composetest runs deploy/compose.yaml under load and faults. It
// needs a Docker Engine with Compose and is skipped unless
// NEWSFLOW_COMPOSE_TEST=1 (.ci/run sets it when `docker info` works):
//
//	NEWSFLOW_COMPOSE_TEST=1 go test -v -count=1 -timeout 30m ./deploy/composetest
//
// It builds the images with deploy/images/build.sh (nothing is pulled), serves
// made-up feeds from a container on the stack's network, which has no way
// out (internal), and checks that every item served was stored exactly once.
package composetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const project = "nfcompose"

// stack drives one compose project from the test.
type stack struct {
	t       *testing.T
	compose []string // the compose command and its -p and -f flags
	env     []string
}

func TestComposeUnderFaults(t *testing.T) {
	if os.Getenv("NEWSFLOW_COMPOSE_TEST") != "1" {
		t.Skip("set NEWSFLOW_COMPOSE_TEST=1 to run the compose stack (needs Docker)")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker info: %v\n%s", err, out)
	}
	if len(composeCommand()) == 0 {
		t.Skip("neither docker compose nor docker-compose is installed")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, root)
	s.up()

	// Throughput: four process containers up and paused, their pull
	// requests expired (so that nothing is delivered to them), while a
	// backlog of raw articles gathers, then 1, 2 and 4 of them running; the rate
	// is how fast NEWS_ARTICLES grows.
	const backlog = 3000
	s.scaleProcess(4)
	procs := s.containers("process")
	s.docker(append([]string{"pause"}, procs...)...)
	s.checkFor(2*time.Minute, func() error { // the paused containers' pull requests expire
		raw, err := s.stream("NEWS_RAW")
		for _, c := range raw.Consumers {
			if c.Name == "process" && c.Waiting > 0 {
				err = fmt.Errorf("%d pull requests waiting", c.Waiting)
			}
		}
		return err
	})
	s.release(backlog)
	// The backlog is what the process consumer has not delivered yet (the
	// stream's last sequence also counts what was processed before).
	s.checkFor(10*time.Minute, func() error {
		// The paused containers hold a few, fetched before they paused.
		pending, unacked, err := s.consumerPending("NEWS_RAW", "process")
		if err == nil && pending+unacked < backlog {
			err = fmt.Errorf("%d of %d raw articles waiting for process", pending+unacked, backlog)
		}
		return err
	})
	// Containers are only ever unpaused here: a paused one would sit on
	// the messages it had fetched.
	rates := map[int]float64{}
	s.docker("unpause", procs[0])
	rates[1] = s.processRate(15 * time.Second)
	s.docker("unpause", procs[1])
	rates[2] = s.processRate(15 * time.Second)
	s.docker("unpause", procs[2], procs[3])
	rates[4] = s.processRate(15 * time.Second)
	for _, n := range []int{1, 2, 4} {
		t.Logf("throughput with %d process containers running: %.1f records/s", n, rates[n])
	}
	// And scaling for real: 1, 4, then 2 containers, with items flowing.
	stopFeed := s.feedSteadily(8, time.Second)
	for _, n := range []int{1, 4, 2} {
		start := time.Now()
		s.scaleProcess(n)
		t.Logf("scaled process to %d in %s", n, time.Since(start).Round(100*time.Millisecond))
	}

	// Faults, while items keep coming.
	heal := s.faults()
	stopFeed()

	released := s.released()
	t.Logf("released %d items; waiting for all to be stored", len(released))
	s.checkFor(10*time.Minute, func() error {
		n, err := s.storedCount()
		if err == nil && n < len(released) {
			err = fmt.Errorf("%d of %d stored", n, len(released))
		}
		return err
	})
	s.checkNoLoss(released)
	s.checkStreams()

	t.Logf("process throughput (records/s, NEWS_ARTICLES growth, 2 workers each): 1 container %.1f, 2 containers %.1f, 4 containers %.1f",
		rates[1], rates[2], rates[4])
	for _, h := range heal {
		t.Logf("fault %-40s healed in %s", h.name, h.took.Round(100*time.Millisecond))
	}
	s.logMemory()
}

func newStack(t *testing.T, root string) *stack {
	dir := t.TempDir()
	if os.Getenv("NEWSFLOW_COMPOSE_SKIP_BUILD") != "1" {
		run(t, root, nil, "deploy/images/build.sh")
	}
	feedImage(t, root, dir)
	const feeds = 4
	var list, aliases []string
	for i := range feeds {
		list = append(list, fmt.Sprintf("http://feeds-%d:8080/feed/%d.xml", i, i))
		aliases = append(aliases, fmt.Sprintf("feeds-%d", i))
	}
	write(t, filepath.Join(dir, "feeds.txt"), strings.Join(list, "\n")+"\n")
	write(t, filepath.Join(dir, "feeds.yaml"), fmt.Sprintf(`services:
  feeds:
    image: newsflow-feedserver:local
    command: ["-feeds", "%d"]
    networks:
      newsflow: { aliases: [%s] }
`, feeds, strings.Join(aliases, ", ")))
	s := &stack{t: t, env: append(os.Environ(),
		"NEWSFLOW_IMAGE=newsflow:local",
		"NEWSFLOW_NATS_IMAGE=newsflow-nats:local",
		"NEWSFLOW_POSTGRES_IMAGE=newsflow-postgres:local",
		"NEWSFLOW_INTERNAL=true",
		"NEWSFLOW_FEEDS_FILE="+filepath.Join(dir, "feeds.txt"),
		"NEWSFLOW_ALLOW_PRIVATE_NETWORKS=true",
		"NEWSFLOW_INTERVAL=2s",
		"NEWSFLOW_API_TOKEN=compose-test-api-token",
	)}
	s.compose = append(composeCommand(), "-p", project,
		"-f", filepath.Join(root, "deploy/compose.yaml"), "-f", filepath.Join(dir, "feeds.yaml"))
	s.dc("down", "-v", "--remove-orphans")
	t.Cleanup(func() {
		if t.Failed() {
			for _, svc := range []string{"ingest", "process", "store", "nats-1", "nats-2", "nats-3"} {
				out, _ := s.dcOut("logs", "--no-color", svc)
				t.Logf("warnings and errors of %s, and its last lines:\n%s", svc, logDigest(out, 60, 10))
			}
		}
		if os.Getenv("NEWSFLOW_COMPOSE_KEEP") != "1" {
			s.dc("down", "-v", "--remove-orphans")
		}
	})
	return s
}

// composeCommand is `docker compose` where the plugin is installed, else
// the standalone docker-compose, else nil.
func composeCommand() []string {
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	return nil
}

// feedImage builds the feed server into an image on top of newsflow:local.
func feedImage(t *testing.T, root, dir string) {
	ctx := filepath.Join(dir, "feedimage")
	os.MkdirAll(ctx, 0o755)
	cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctx, "feedserver"), "./deploy/composetest/feedserver")
	cmd.Dir, cmd.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build feedserver: %v\n%s", err, out)
	}
	write(t, filepath.Join(ctx, "Dockerfile"), "FROM newsflow:local\nCOPY feedserver /feedserver\nHEALTHCHECK NONE\nENTRYPOINT [\"/feedserver\"]\nCMD []\n")
	run(t, ctx, nil, "docker", "build", "-q", "-t", "newsflow-feedserver:local", ".")
}

func (s *stack) up() {
	start := time.Now()
	s.dc("up", "-d", "--scale", "process=1")
	s.waitHealthy("nats-1", "nats-2", "nats-3", "postgres", "ingest", "process", "store")
	s.t.Logf("stack up and healthy in %s", time.Since(start).Round(time.Second))
}

// dc runs a compose command and fails the test if it fails.
func (s *stack) dc(args ...string) string {
	s.t.Helper()
	out, err := s.dcOut(args...)
	if err != nil {
		s.t.Fatalf("compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *stack) dcOut(args ...string) (string, error) {
	cmd := exec.Command(s.compose[0], append(s.compose[1:], args...)...)
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// containers lists the running containers of a service.
func (s *stack) containers(service string) []string {
	s.t.Helper()
	out := run(s.t, "", nil, "docker", "ps", "--format", "{{.Names}}",
		"--filter", "label=com.docker.compose.project="+project, "--filter", "label=com.docker.compose.service="+service)
	names := strings.Fields(out)
	slices.Sort(names)
	return names
}

func (s *stack) container(service string) string {
	s.t.Helper()
	c := s.containers(service)
	if len(c) == 0 {
		s.t.Fatalf("no running container of %s", service)
	}
	return c[0]
}

// ip is a container's address on the stack's network, or "".
func ip(container string) string {
	out, _ := exec.Command("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", container).Output()
	return strings.TrimSpace(string(out))
}

func health(container string) string {
	out, err := exec.Command("docker", "inspect", "-f", "{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}", container).Output()
	if err != nil {
		return "gone"
	}
	return strings.TrimSpace(string(out))
}

// waitHealthy waits until every container of the services is running and
// healthy.
func (s *stack) waitHealthy(services ...string) {
	s.t.Helper()
	s.checkFor(5*time.Minute, func() error {
		for _, svc := range services {
			cs := s.containers(svc)
			if len(cs) == 0 {
				return fmt.Errorf("%s: no container running", svc)
			}
			for _, c := range cs {
				if h := health(c); h != "running/healthy" {
					return fmt.Errorf("%s: %s", c, h)
				}
			}
		}
		return nil
	})
}

// checkFor polls f until it returns nil, failing the test with f's last
// error after timeout.
func (s *stack) checkFor(timeout time.Duration, f func() error) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (s *stack) feedURL(path string) string {
	return "http://" + ip(s.container("feeds")) + ":8080" + path
}

func (s *stack) release(n int) {
	s.t.Helper()
	resp, err := http.Post(s.feedURL("/release?n="+strconv.Itoa(n)), "", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
}

// feedSteadily releases n items every period until the returned function
// is called.
func (s *stack) feedSteadily(n int, period time.Duration) (stop func()) {
	url := s.feedURL("/release?n=" + strconv.Itoa(n))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if resp, err := http.Post(url, "", nil); err == nil {
				resp.Body.Close()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// docker runs a docker command and fails the test if it fails.
func (s *stack) docker(args ...string) {
	s.t.Helper()
	run(s.t, "", nil, "docker", args...)
}

func (s *stack) released() []string {
	s.t.Helper()
	var urls []string
	s.getJSON(s.feedURL("/released"), &urls)
	return urls
}

func (s *stack) getJSON(url string, v any) {
	s.t.Helper()
	if err := getJSON(url, v); err != nil {
		s.t.Fatal(err)
	}
}

func getJSON(url string, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// jsz is the part of a NATS server's /jsz answer the test reads.
type jsz struct {
	Accounts []struct {
		Streams []streamDetail `json:"stream_detail"`
	} `json:"account_details"`
}

type streamDetail struct {
	Name   string `json:"name"`
	Config struct {
		Replicas int `json:"num_replicas"`
	} `json:"config"`
	Cluster struct {
		Leader   string `json:"leader"`
		Replicas []struct {
			Name    string `json:"name"`
			Current bool   `json:"current"`
			Offline bool   `json:"offline"`
		} `json:"replicas"`
	} `json:"cluster"`
	State struct {
		Msgs    uint64 `json:"messages"`
		LastSeq uint64 `json:"last_seq"`
	} `json:"state"`
	Consumers []struct {
		Name       string `json:"name"`
		Pending    uint64 `json:"num_pending"`
		AckPending int    `json:"num_ack_pending"`
		Waiting    int    `json:"num_waiting"`
		Cluster    struct {
			Leader string `json:"leader"`
		} `json:"cluster"`
	} `json:"consumer_detail"`
}

// streams gathers the streams' state from the servers that lead them
// (with stream-leader-only, a server's /jsz reports the streams it leads:
// only a leader knows whether its followers are current).
func (s *stack) streams() (map[string]streamDetail, error) {
	out := map[string]streamDetail{}
	var errs []error
	answered := 0
	for _, svc := range []string{"nats-1", "nats-2", "nats-3"} {
		for _, c := range s.containers(svc) {
			var z jsz
			if err := getJSON("http://"+ip(c)+":8222/jsz?accounts=true&streams=true&consumers=true&config=true&stream-leader-only=true", &z); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", svc, err))
				continue
			}
			answered++
			for _, a := range z.Accounts {
				for _, st := range a.Streams {
					out[st.Name] = st
				}
			}
		}
	}
	if answered == 0 {
		return nil, errors.Join(append(errs, errors.New("no NATS server answered"))...)
	}
	return out, nil
}

func (s *stack) stream(name string) (streamDetail, error) {
	all, err := s.streams()
	if err != nil {
		return streamDetail{}, err
	}
	st, ok := all[name]
	if !ok {
		return st, fmt.Errorf("stream %s: no leader reports it", name)
	}
	return st, nil
}

// consumerPending is how many of stream's messages consumer has not
// delivered yet and how many it delivered but has no acknowledgement for,
// as its leader counts them: the stream leader's copy of a consumer it does
// not lead can read 0.
func (s *stack) consumerPending(stream, consumer string) (pending, unacked uint64, err error) {
	for _, svc := range []string{"nats-1", "nats-2", "nats-3"} {
		for _, c := range s.containers(svc) {
			var z jsz
			if err := getJSON("http://"+ip(c)+":8222/jsz?accounts=true&streams=true&consumers=true", &z); err != nil {
				continue
			}
			for _, a := range z.Accounts {
				for _, st := range a.Streams {
					for _, cd := range st.Consumers {
						if st.Name == stream && cd.Name == consumer && cd.Cluster.Leader == svc {
							return cd.Pending, uint64(cd.AckPending), nil
						}
					}
				}
			}
		}
	}
	return 0, 0, fmt.Errorf("consumer %s > %s: no leader reports it", stream, consumer)
}

// scaleProcess runs n process containers and waits until they are healthy.
func (s *stack) scaleProcess(n int) {
	s.dc("up", "-d", "--no-deps", "--scale", fmt.Sprintf("process=%d", n), "process")
	s.checkFor(3*time.Minute, func() error {
		cs := s.containers("process")
		if len(cs) != n {
			return fmt.Errorf("%d process containers, want %d", len(cs), n)
		}
		for _, c := range cs {
			if h := health(c); h != "running/healthy" {
				return fmt.Errorf("%s: %s", c, h)
			}
		}
		return nil
	})
}

// processRate measures how fast records reach NEWS_ARTICLES over window,
// and warns if the backlog ran out (then the figure is the feed's pace).
func (s *stack) processRate(window time.Duration) float64 {
	s.t.Helper()
	seq := func() uint64 {
		var st streamDetail
		s.checkFor(time.Minute, func() (err error) { st, err = s.stream("NEWS_ARTICLES"); return err })
		return st.State.LastSeq
	}
	n0, t0 := seq(), time.Now()
	time.Sleep(window)
	n1, t1 := seq(), time.Now()
	if pending, _, err := s.consumerPending("NEWS_RAW", "process"); err == nil && pending == 0 {
		s.t.Logf("note: the process backlog ran out during the window")
	}
	return float64(n1-n0) / t1.Sub(t0).Seconds()
}

func (s *stack) storedCount() (int, error) {
	var n int
	err := s.query(func(ctx context.Context, c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT count(*) FROM articles`).Scan(&n)
	})
	return n, err
}

func (s *stack) query(f func(context.Context, *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := s.containers("postgres")
	if len(cs) == 0 {
		return errors.New("postgres: not running")
	}
	c, err := pgx.Connect(ctx, "postgres://newsflow:newsflow@"+ip(cs[0])+":5432/newsflow?sslmode=disable")
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return f(ctx, c)
}

type healed struct {
	name string
	took time.Duration
}

// faults injects each fault in turn while items flow, repairs it, and
// measures how long the stack took to heal: the repaired containers
// healthy again and records flowing to the database past the count at the
// repair.
func (s *stack) faults() []healed {
	var out []healed
	flowing := func(after int) error {
		n, err := s.storedCount()
		if err == nil && n <= after {
			err = fmt.Errorf("stored count still %d", n)
		}
		return err
	}
	// fault runs inject, then repair, then waits for the services to be healthy and records to flow.
	fault := func(name string, inject, repair func(), services ...string) {
		inject()
		n, _ := s.storedCount()
		start := time.Now()
		repair()
		s.waitHealthy(services...)
		s.checkFor(5*time.Minute, func() error { return flowing(n) })
		out = append(out, healed{name, time.Since(start)})
		s.t.Logf("fault %q healed in %s", name, time.Since(start).Round(100*time.Millisecond))
	}
	kill := func(c string) func() { return func() { run(s.t, "", nil, "docker", "kill", c) } }
	start := func(c string) func() { return func() { run(s.t, "", nil, "docker", "start", c) } }

	var victim string
	fault("kill a process container", func() { victim = s.container("process"); kill(victim)() }, func() { start(victim)() }, "process")
	victim = s.container("store")
	fault("kill the store", kill(victim), start(victim), "store")
	victim = s.container("ingest")
	fault("kill ingest", kill(victim), start(victim), "ingest")

	var leader string
	s.checkFor(time.Minute, func() error {
		st, err := s.stream("NEWS_RAW")
		leader = st.Cluster.Leader
		if err == nil && leader == "" {
			err = errors.New("NEWS_RAW has no leader")
		}
		return err
	})
	victim = s.container(leader) // servers are named after their services
	fault("kill the NEWS_RAW leader ("+leader+")", kill(victim), start(victim), "nats-1", "nats-2", "nats-3", "ingest", "process", "store")

	other := "nats-1"
	if leader == other {
		other = "nats-2"
	}
	victim = s.container(other)
	network := s.network(victim)
	fault("disconnect "+other+" for 30s", func() {
		run(s.t, "", nil, "docker", "network", "disconnect", network, victim)
		time.Sleep(30 * time.Second)
	}, func() {
		run(s.t, "", nil, "docker", "network", "connect", "--alias", other, network, victim)
	}, "nats-1", "nats-2", "nats-3")

	victim = s.container("postgres")
	fault("restart PostgreSQL", func() {}, func() { run(s.t, "", nil, "docker", "restart", victim) }, "postgres", "store")

	fault("roll every process container", func() {}, func() {
		s.dc("up", "-d", "--no-deps", "--force-recreate", "--scale", "process=2", "process")
	}, "process")
	return out
}

// network is the stack's network a container is on.
func (s *stack) network(container string) string {
	out := run(s.t, "", nil, "docker", "inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", container)
	nets := strings.Fields(out)
	if len(nets) != 1 {
		s.t.Fatalf("%s is on networks %v, want one", container, nets)
	}
	return nets[0]
}

// checkNoLoss compares what the feed server released with what was stored:
// every item exactly once, none merged as a duplicate, nothing parked.
func (s *stack) checkNoLoss(released []string) {
	s.t.Helper()
	stored := map[string]int{}
	var dups int
	err := s.query(func(ctx context.Context, c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT url, count(*) FROM articles GROUP BY url`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var u string
			var n int
			if err := rows.Scan(&u, &n); err != nil {
				return err
			}
			stored[u] = n
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return c.QueryRow(ctx, `SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL`).Scan(&dups)
	})
	if err != nil {
		s.t.Fatal(err)
	}
	var missing, twice []string
	for _, u := range released {
		switch stored[u] {
		case 0:
			missing = append(missing, u)
		case 1:
		default:
			twice = append(twice, u)
		}
		delete(stored, u)
	}
	if len(missing) > 0 || len(twice) > 0 || len(stored) > 0 || dups > 0 {
		s.t.Errorf("of %d items released: %d missing (%.5q), %d stored more than once (%.5q), %d stored that were never released, %d marked duplicates",
			len(released), len(missing), missing, len(twice), twice, len(stored), dups)
	}
	parked, err := s.stream("NEWS_PARKED")
	if err != nil {
		s.t.Fatal(err)
	}
	if parked.State.Msgs != 0 {
		s.t.Errorf("%d messages parked; want none", parked.State.Msgs)
	}
	s.t.Logf("loss check: %d released, %d stored once each, %d parked", len(released), len(released)-len(missing)-len(twice), parked.State.Msgs)
}

// checkStreams checks that every stream is still at three replicas, all
// current, and that the consumers have nothing left.
func (s *stack) checkStreams() {
	s.t.Helper()
	s.checkFor(2*time.Minute, func() error {
		all, err := s.streams()
		if err != nil {
			return err
		}
		var errs []error
		for _, want := range []string{"NEWS_RAW", "NEWS_ARTICLES", "NEWS_PARKED", "OBJ_NEWS_BODIES", "KV_NEWSFLOW_FEEDS", "KV_NEWSFLOW_SEEN", "KV_NEWSFLOW_FEED_REGISTRY"} {
			st, ok := all[want]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: no leader reports it", want))
				continue
			}
			current := 0
			for _, r := range st.Cluster.Replicas {
				if r.Current && !r.Offline {
					current++
				}
			}
			if st.Config.Replicas != 3 || current != 2 {
				errs = append(errs, fmt.Errorf("%s: %d replicas configured, leader %s and %d current followers; want 3, 2", want, st.Config.Replicas, st.Cluster.Leader, current))
			}
			for _, c := range st.Consumers {
				if c.Pending != 0 || c.AckPending != 0 {
					errs = append(errs, fmt.Errorf("%s consumer %s: %d pending, %d unacknowledged", want, c.Name, c.Pending, c.AckPending))
				}
			}
		}
		return errors.Join(errs...)
	})
	s.t.Log("streams: all at 3 replicas, followers current, consumers caught up")
}

// logMemory logs each container's memory use now (to size the Kubernetes
// requests from).
func (s *stack) logMemory() {
	out, err := exec.Command("docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}").Output()
	if err != nil {
		return
	}
	var lines []string
	for l := range strings.Lines(string(out)) {
		if strings.HasPrefix(l, project+"_") || strings.HasPrefix(l, project+"-") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	s.t.Logf("memory after the run:\n  %s", strings.Join(lines, "\n  "))
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// logDigest is the last warn warnings and errors of a service's log (a
// repeated health check failure once), then its last tail lines.
func logDigest(log string, warn, tail int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	var picked []string
	seenHealth := false
	for _, l := range lines {
		if !strings.Contains(l, "[WRN]") && !strings.Contains(l, "[ERR]") &&
			!strings.Contains(l, "level=WARN") && !strings.Contains(l, "level=ERROR") {
			continue
		}
		if strings.Contains(l, "Healthcheck failed") {
			if seenHealth {
				continue
			}
			seenHealth = true
		}
		picked = append(picked, l)
	}
	picked = picked[max(0, len(picked)-warn):]
	picked = append(picked, "...")
	return strings.Join(append(picked, lines[max(0, len(lines)-tail):]...), "\n")
}
