package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/store"
	"github.com/newsflow/newsflow/store/storetest"
)

// The fault suite: each test serves a site of made-up articles, runs
// newsflow against it, injects one fault while articles are in flight,
// and checks with checkNoLoss that every article served ends up stored
// exactly once and nothing is parked that should not be, within a bound
// that says "by itself, in seconds".
//
// -short runs only the in-process ones; NEWSFLOW_FAULT_ITEMS sets the
// number of articles (default 40, 12 with -short).

// proc is a newsflow (or nats-server) process started by a test.
type proc struct {
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
	err  error
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends the process with sig and waits for it.
func (p *proc) kill(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return p.err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not end within 30s of %s; log:\n%s", p.cmd.Path, sig, tail(p.log.String()))
		return nil
	}
}

// waitStored waits until at least min articles are stored.
func waitStored(t *testing.T, p *proc, bin string, min int, within time.Duration, store ...string) {
	t.Helper()
	checkFor(t, within, func() error {
		if p.exited() {
			t.Fatalf("newsflow exited: %v; log:\n%s", p.err, tail(p.log.String()))
		}
		if got := len(storedLinks(t, bin, store...)); got < min {
			return fmt.Errorf("%d articles stored, waiting for %d", got, min)
		}
		return nil
	})
}

// within calls check until it returns nil or d has passed, and returns
// its last error. p, if not nil, must keep running meanwhile.
func within(t *testing.T, p *proc, d time.Duration, check func() error) error {
	t.Helper()
	start := time.Now()
	for {
		if p != nil && p.exited() {
			t.Fatalf("newsflow exited: %v; log:\n%s", p.err, tail(p.log.String()))
		}
		err := check()
		if err == nil || time.Since(start) > d {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test runs newsflow as a process: not in -short mode")
	}
}

// After kill -9 mid-stream, a restarted `newsflow run` (default --ack-wait)
// stores every article within seconds: what the dead process held, and the
// feeds it had claimed, are handed over without waiting out a minute.
func TestFaultKill9(t *testing.T) {
	skipShort(t)
	n := faultItems(t)
	site := newNewsSite(t, n)
	site.delay.Store(int64(30 * time.Millisecond))
	bin := buildNewsflow(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"run", "--feeds", feedList(t, site.URL+"/news.rss"), "--data", data, "--allow-private-networks", "--interval", "2s"}

	first := startProc(t, bin, args...)
	waitStored(t, first, bin, n/4, 2*time.Minute, "--data", data)
	first.kill(t, syscall.SIGKILL)
	t.Logf("killed with %d of %d stored", len(storedLinks(t, bin, "--data", data)), n)

	second := startProc(t, bin, args...)
	restarted := time.Now()
	last := within(t, second, 30*time.Second, func() error { return checkNoLoss(site.links(), nil, storedLinks(t, bin, "--data", data), nil) })
	if last != nil {
		t.Fatalf("a killed process's messages and feeds were not handed over in seconds: 30s after the restart: %v", last)
	}
	t.Logf("every article stored %s after the restart", time.Since(restarted).Round(time.Millisecond))
	if err := second.kill(t, syscall.SIGTERM); err != nil {
		t.Errorf("run ended with %v", err)
	}
	if err := checkNoLoss(site.links(), nil, storedLinks(t, bin, "--data", data), parkedOf(t, bin, "--data", data)); err != nil {
		t.Error(err)
	}
}

// buildNATSServer builds nats-server from the module newsflow embeds.
func buildNATSServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "nats-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		t.Fatalf("build nats-server: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startNATS runs nats-server with JetStream in dir on port, and waits until
// it answers.
func startNATS(t *testing.T, bin string, port int, dir string) *proc {
	t.Helper()
	p := startProc(t, bin, "-js", "-sd", dir, "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	checkFor(t, 30*time.Second, func() error {
		if p.exited() {
			t.Fatalf("nats-server exited: %v\n%s", p.err, p.log.String())
		}
		if !strings.Contains(p.log.String(), "Server is ready") {
			return fmt.Errorf("nats-server not ready:\n%s", p.log.String())
		}
		return nil
	})
	return p
}

// A NATS server restarted mid-run (stopped, down a few seconds, started
// again on its files) costs no article, and ingest goes on as soon as it is
// back (within 30 s), not an --interval (15m by default) later.
func TestFaultNATSRestart(t *testing.T) {
	skipShort(t)
	n := faultItems(t)
	site := newNewsSite(t, n)
	site.delay.Store(int64(50 * time.Millisecond))
	bin := buildNewsflow(t)
	natsBin := buildNATSServer(t)
	port, natsDir := freePort(t), t.TempDir()
	ns := startNATS(t, natsBin, port, natsDir)
	data := filepath.Join(t.TempDir(), "data")
	run := startProc(t, bin, "run", "--nats", fmt.Sprintf("nats://127.0.0.1:%d", port), "--data", data,
		"--feeds", feedList(t, site.URL+"/news.rss"), "--allow-private-networks")

	waitStored(t, run, bin, n/4, 2*time.Minute, "--data", data)
	ns.kill(t, syscall.SIGTERM)
	checkFor(t, 30*time.Second, func() error {
		if !strings.Contains(strings.ToLower(run.log.String()), "disconnect") {
			return fmt.Errorf("newsflow has not noticed the server is gone:\n%s", tail(run.log.String()))
		}
		return nil
	})
	t.Logf("NATS stopped with %d of %d stored, %d pages served", len(storedLinks(t, bin, "--data", data)), n, site.served.Load())
	startNATS(t, natsBin, port, natsDir)
	back := time.Now()

	last := within(t, run, 30*time.Second, func() error { return checkNoLoss(site.links(), nil, storedLinks(t, bin, "--data", data), nil) })
	if last != nil {
		t.Fatalf("ingest did not resume as soon as the bus was back: 30s after NATS came back: %v\nnewsflow's log:\n%s", last, tail(run.log.String()))
	}
	t.Logf("every article stored %s after NATS came back", time.Since(back).Round(time.Millisecond))
	nats := fmt.Sprintf("nats://127.0.0.1:%d", port)
	if err := run.kill(t, syscall.SIGTERM); err != nil {
		t.Errorf("run ended with %v", err)
	}
	if err := checkNoLoss(site.links(), nil, storedLinks(t, bin, "--data", data), parkedOf(t, bin, "--nats", nats)); err != nil {
		t.Error(err)
	}
}

// tcpProxy forwards connections to a target until it is cut: then it closes
// every connection it holds and refuses new ones, as a database host that
// went away would.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.setCut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *tcpProxy) serve(c net.Conn) {
	p.mu.Lock()
	cut := p.cut
	p.mu.Unlock()
	if cut {
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close(); c.Close() }()
	io.Copy(c, up)
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *tcpProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			c.Close()
		}
	}
}

// A PostgreSQL outage of about 10 s costs no article, and when the
// database is back the backlog is stored at once (within 5 s), not after
// retry delays that grew during the outage.
func TestFaultDatabaseOutage(t *testing.T) {
	skipShort(t)
	n := faultItems(t)
	direct := storetest.PostgresDSN(t)
	site := newNewsSite(t, n)
	site.delay.Store(int64(50 * time.Millisecond))
	bin := buildNewsflow(t)
	u, err := url.Parse(direct)
	if err != nil || u.Host == "" {
		t.Skipf("database outage test needs a postgres:// URL in NEWSFLOW_TEST_POSTGRES, not %s", store.RedactDSN(direct))
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	viaProxy := u.String()
	data := filepath.Join(t.TempDir(), "data")
	run := startProc(t, bin, "run", "--feeds", feedList(t, site.URL+"/news.rss"), "--data", data, "--store", viaProxy,
		"--allow-private-networks", "--interval", "2s")

	waitStored(t, run, bin, n/4, 2*time.Minute, "--store", direct)
	proxy.setCut(true)
	cut := time.Now()
	t.Logf("database cut with %d of %d stored", len(storedLinks(t, bin, "--store", direct)), n)
	// The outage lasts 10 s, and at least until the store has met it.
	checkFor(t, time.Minute, func() error {
		if time.Since(cut) < 10*time.Second {
			return fmt.Errorf("outage of %s so far", time.Since(cut).Round(time.Second))
		}
		return nil
	})
	proxy.setCut(false)
	back := time.Now()
	// Probes are at most 5 s apart; the rest is the backlog's own time on a
	// busy machine.
	last := within(t, run, 15*time.Second, func() error { return checkNoLoss(site.links(), nil, storedLinks(t, bin, "--store", direct), nil) })
	if last != nil {
		t.Fatalf("the backlog did not go at once when the database came back: 15s after: %v", last)
	}
	t.Logf("every article stored %s after the database came back", time.Since(back).Round(time.Millisecond))
	if err := run.kill(t, syscall.SIGTERM); err != nil {
		t.Errorf("run ended with %v", err)
	}
	if err := checkNoLoss(site.links(), nil, storedLinks(t, bin, "--store", direct), parkedOf(t, bin, "--data", data)); err != nil {
		t.Error(err)
	}
}

// When the disk holding the data folder fills up and is freed again,
// `newsflow run` resumes by itself and stores every article within 30 s.
func TestFaultDiskFull(t *testing.T) {
	skipShort(t)
	if os.Geteuid() != 0 {
		t.Skip("disk-full test mounts a small tmpfs over the data folder: run as root")
	}
	data := filepath.Join(t.TempDir(), "data")
	os.Mkdir(data, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256m,mode=0700", "tmpfs", data).CombinedOutput(); err != nil {
		t.Skipf("disk-full test cannot mount a tmpfs (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", data).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", data, err, out)
		}
	})
	n := faultItems(t)
	site := newNewsSite(t, n)
	site.delay.Store(int64(50 * time.Millisecond))
	bin := buildNewsflow(t)
	// Limits that fit the small disk: JetStream reserves them when it
	// creates the streams (the defaults want a few GiB).
	run := startProc(t, bin, "run", "--feeds", feedList(t, site.URL+"/news.rss"), "--data", data, "--allow-private-networks", "--interval", "2s",
		"--raw-max-bytes", "64MiB", "--articles-max-bytes", "32MiB", "--parked-max-bytes", "16MiB", "--bodies-max-bytes", "32MiB", "--seen-max-bytes", "8MiB")

	waitStored(t, run, bin, n/4, 2*time.Minute, "--data", data)
	filler := filepath.Join(data, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			break // ENOSPC
		}
	}
	f.Close()
	full := len(storedLinks(t, bin, "--data", data))
	t.Logf("disk full with %d of %d stored", full, n)
	checkFor(t, 30*time.Second, func() error {
		if l := strings.ToLower(run.log.String()); !strings.Contains(l, "no space") && !strings.Contains(l, "insufficient") && !strings.Contains(l, "full") {
			return fmt.Errorf("newsflow has not met the full disk:\n%s", tail(run.log.String()))
		}
		return nil
	})
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	last := within(t, run, 30*time.Second, func() error { return checkNoLoss(site.links(), nil, storedLinks(t, bin, "--data", data), nil) })
	if last != nil {
		t.Fatalf("run did not resume by itself after the disk was full: 30s after it was freed: %v\nlog:\n%s", last, tail(run.log.String()))
	}
	t.Logf("every article stored %s after the disk was freed", time.Since(freed).Round(time.Millisecond))
	if err := run.kill(t, syscall.SIGTERM); err != nil {
		t.Errorf("run ended with %v", err)
	}
	if err := checkNoLoss(site.links(), nil, storedLinks(t, bin, "--data", data), parkedOf(t, bin, "--data", data)); err != nil {
		t.Error(err)
	}
}

// hostileSite serves, beside good articles, the pages that the real web
// sends: errors, an image, a page over the size limit, a redirect loop, and
// a good page whose server sends newsflow's own fetch-error header.
func hostileSite(t *testing.T, good int) (*httptest.Server, []string) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	var links []string
	for i := range good {
		links = append(links, fmt.Sprintf("%s/good/%d.html", srv.URL, i))
	}
	for _, p := range []string{"/404.html", "/500.html", "/image.png", "/huge.html", "/loop.html", "/forged-header.html"} {
		links = append(links, srv.URL+p)
	}
	mux.HandleFunc("/hostile.rss", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, rssFeed("Hostile", links))
	})
	mux.HandleFunc("/good/", func(w http.ResponseWriter, r *http.Request) {
		var i int
		fmt.Sscanf(r.URL.Path, "/good/%d.html", &i)
		w.Write(newsPage(srv.URL+r.URL.Path, i))
	})
	mux.HandleFunc("/404.html", http.NotFound)
	mux.HandleFunc("/500.html", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the server is having a bad day", http.StatusInternalServerError)
	})
	mux.HandleFunc("/image.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6"))
		for range 2000 {
			w.Write([]byte("IDAT some compressed picture data that is not text at all \x00\x01\x02\x03 "))
		}
	})
	mux.HandleFunc("/huge.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body><article>")
		para := []byte(strings.Repeat("<p>An endless page of minutes, read until the limit stops it.</p>\n", 1000))
		for written := 0; written < 17<<20; written += len(para) {
			if _, err := w.Write(para); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/loop.html", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop-again.html", http.StatusFound)
	})
	mux.HandleFunc("/loop-again.html", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop.html", http.StatusFound)
	})
	mux.HandleFunc("/forged-header.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Newsflow-Fetch-Error", "this site says it failed")
		w.Write(newsPage(srv.URL+r.URL.Path, 1000))
	})
	return srv, links
}

// Hostile pages end parked with their error, good ones stored, and a page
// cannot park itself by sending newsflow's fetch-error header.
func TestFaultHostileServers(t *testing.T) {
	const good = 5
	srv, links := hostileSite(t, good)
	cfg := testConfig(feedList(t, srv.URL+"/hostile.rss"), t.TempDir())
	cfg.interval = time.Second
	r := startPipeline(t, cfg)
	defer r.stop(t)

	// Wait until every item has its outcome: stored or parked.
	checkFor(t, 90*time.Second, func() error {
		stored, parked := storedIn(t, cfg.store), parkedIn(t, r.bus)
		var open []string
		for _, l := range links {
			done := strings.Contains(strings.Join(parked, "\n"), l)
			for _, s := range stored {
				done = done || s == l
			}
			if !done {
				open = append(open, l)
			}
		}
		if len(open) > 0 {
			return fmt.Errorf("%d items neither stored nor parked: %v", len(open), open)
		}
		return nil
	})
	stored, parked := storedIn(t, cfg.store), parkedIn(t, r.bus)
	if err := checkNoLoss(links[:good], nil, stored, nil); err != nil {
		t.Errorf("good pages: %v", err)
	}
	for _, tt := range []struct {
		path   string
		parked bool
	}{
		{"/404.html", true},
		{"/500.html", true},
		{"/image.png", true},
		{"/huge.html", true},
		{"/loop.html", true},
		{"/forged-header.html", false},
	} {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			l := srv.URL + tt.path
			want, wantParked := []string{l}, []string(nil)
			if tt.parked {
				want, wantParked = nil, want
			}
			var mine []string
			for _, p := range parked {
				if strings.Contains(p, l) {
					mine = append(mine, p)
				}
			}
			if err := checkNoLoss(want, wantParked, onlyLink(stored, l), mine); err != nil {
				t.Error(err)
			}
		})
	}
}

// storedIn reads the item links of the records in a SQLite database.
func storedIn(t *testing.T, path string) []string {
	var out []string
	for _, a := range readAll(t, path) {
		out = append(out, a.Link)
	}
	return out
}

func onlyLink(links []string, l string) []string {
	var out []string
	for _, s := range links {
		if s == l {
			out = append(out, s)
		}
	}
	return out
}

// Feeds whose pages answer a byte a second delay only themselves: the
// articles of a good feed are stored within seconds while four slow feeds
// (as many as are polled at once) are still being read.
func TestFaultSlowServersIsolated(t *testing.T) {
	n := faultItems(t) / 4
	site := newNewsSite(t, n)
	stop := make(chan struct{})
	var slowStarted sync.WaitGroup
	slowStarted.Add(4)
	var once [4]sync.Once
	slowSite := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var k int
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r) // only the pages are slow
			return
		}
		if strings.HasSuffix(r.URL.Path, ".rss") {
			fmt.Sscanf(r.URL.Path, "/%d.rss", &k)
			io.WriteString(w, rssFeed(fmt.Sprintf("Slow %d", k), []string{fmt.Sprintf("http://%s/%d/page.html", r.Host, k)}))
			return
		}
		fmt.Sscanf(r.URL.Path, "/%d/page.html", &k)
		once[k%4].Do(slowStarted.Done)
		w.Header().Set("Content-Type", "text/html")
		page := newsPage("http://"+r.Host+r.URL.Path, 2000+k)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for _, c := range page {
			w.Write([]byte{c})
			w.(http.Flusher).Flush()
			select {
			case <-tick.C:
			case <-stop:
				return
			case <-r.Context().Done():
				return
			}
		}
	})
	// The good feed lists its articles only once the four slow pages are
	// being read: a poll of it that starts later must not wait for them.
	readyCh := make(chan struct{})
	go func() { slowStarted.Wait(); close(readyCh) }()
	goodFeed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-readyCh:
			io.WriteString(w, rssFeed("Good", site.links()))
		default:
			io.WriteString(w, rssFeed("Good", nil))
		}
	}))
	t.Cleanup(goodFeed.Close)

	// Four slow sites, each on a loopback address of its own: four hosts.
	var feeds []string
	for k := range 4 {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", 10+k))
		if err != nil {
			t.Skipf("no loopback address 127.0.0.%d for a slow site: %v", 10+k, err)
		}
		slow := &httptest.Server{Listener: ln, Config: &http.Server{Handler: slowSite}}
		slow.Start()
		t.Cleanup(slow.Close)
		feeds = append(feeds, fmt.Sprintf("%s/%d.rss", slow.URL, k))
	}
	t.Cleanup(func() { close(stop) }) // before the servers close: it ends the slow answers
	feeds = append(feeds, goodFeed.URL+"/good.rss")
	cfg := testConfig(feedList(t, feeds...), t.TempDir())
	cfg.interval = time.Second
	r := startPipeline(t, cfg)
	defer r.stop(t)

	started := time.Now()
	select {
	case <-readyCh:
	case <-time.After(time.Minute):
		t.Fatal("the four slow pages were not all requested within a minute")
	}
	t.Logf("the four slow pages are being read %s after the start", time.Since(started).Round(time.Millisecond))
	since := time.Now()
	last := within(t, nil, 15*time.Second, func() error { return checkNoLoss(site.links(), nil, storedIn(t, cfg.store), nil) })
	if last != nil {
		t.Fatalf("slow sites delayed another feed: 15s after four slow pages started: %v", last)
	}
	t.Logf("the good feed's %d articles stored %s after the slow pages started", n, time.Since(since).Round(time.Millisecond))
}
