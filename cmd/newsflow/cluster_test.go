package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/store"
	"github.com/newsflow/newsflow/store/storetest"
)

// startCluster starts three JetStream servers clustered on loopback, as
// nats-server's own tests do, and returns them and their client URLs.
func startCluster(t *testing.T) ([]*server.Server, string) {
	t.Helper()
	// Route ports are chosen up front, so that every server can name all
	// its peers, as nats-server's own cluster tests do with fixed ports.
	ports := make([]int, 3)
	var routes []*url.URL
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])})
	}
	var servers []*server.Server
	var urls []string
	for i := range ports {
		s, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "newsflow-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(s.Shutdown)
		servers = append(servers, s)
	}
	for i, s := range servers {
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatalf("server %d did not start", i+1)
		}
		urls = append(urls, s.ClientURL())
	}
	eventually(t, "a JetStream meta leader", func() bool {
		for _, s := range servers {
			if s.JetStreamIsLeader() {
				return true
			}
		}
		return false
	})
	return servers, strings.Join(urls, ",")
}

// TestPipelineOnCluster runs each role as its own pipeline (as separate
// containers would) against a three-server cluster with three replicas and
// PostgreSQL, and keeps storing every article once while one server is
// down.
func TestPipelineOnCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test in -short mode")
	}
	servers, urls := startCluster(t)
	site := newTestSite(t)
	dir := t.TempDir()
	base := testConfig(site.feedList(t), dir)
	base.natsURL, base.replicas = urls, 3
	base.store = storetest.PostgresDSN(t)
	role := func(roles ...string) config {
		c := base
		c.roles = roles
		return c
	}
	var stopped []*running
	defer func() {
		for _, r := range stopped {
			r.stop(t)
		}
	}()
	start := func(c config) *running {
		var r *running
		eventually(t, "a role connected to the cluster", func() bool {
			p, err := newPipeline(t.Context(), c, testLog(t))
			if err != nil {
				t.Logf("connect: %v", err)
				return false
			}
			p.close()
			return true
		})
		r = startPipeline(t, c)
		stopped = append(stopped, r)
		return r
	}
	storer := start(role("store"))
	start(role("process"))
	start(role("process"))
	start(role("ingest"))
	eventually(t, "6 articles stored", func() bool { return storer.storedStats().Inserted == 6 })

	// Stop one server: with three replicas the streams keep a quorum and
	// the next poll's publishes still land. Nothing is stored twice.
	servers[2].Shutdown()
	servers[2].WaitForShutdown()
	hits := site.feedHits.Load()
	eventually(t, "feeds polled again with one server down", func() bool { return site.feedHits.Load() >= hits+5 })
	eventually(t, "store idle", func() bool { return consumerIdle(t, storer.bus, bus.StreamArticles, bus.ConsumerStore) })
	if st := storer.storedStats(); st.Inserted != 6 || st.Updated != 0 {
		t.Errorf("with a server down the store wrote %+v, want 6 inserted, none updated", st)
	}
	db, err := store.OpenPostgres(t.Context(), base.store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.Count(t.Context()); err != nil || n != 6 {
		t.Errorf("%d articles stored (%v), want 6", n, err)
	}
}
