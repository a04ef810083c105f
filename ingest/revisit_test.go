package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// memVersions is an in-memory SeenStore that keeps page versions.
type memVersions struct {
	*memSeen
	mu       sync.Mutex
	versions map[string]PageVersion
}

func newMemVersions() *memVersions {
	return &memVersions{memSeen: newMemSeen(), versions: map[string]PageVersion{}}
}

func (m *memVersions) PageVersion(ctx context.Context, id string) (PageVersion, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.versions[id]
	return v, ok, nil
}

func (m *memVersions) MarkSeenVersion(ctx context.Context, id string, v PageVersion) error {
	if err := m.MarkSeen(ctx, id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.versions[id] = v
	return nil
}

// rebuiltSite serves an Atom feed whose one entry has only an updated
// time, a new one at every request, and the entry's page, with an ETag
// (or, with validators off, none).
type rebuiltSite struct {
	srv        *httptest.Server
	validators bool
	robots     string // served as /robots.txt if set

	mu          sync.Mutex
	builds      int
	page        string
	served, nms int // page answers: 200, 304
}

func newRebuiltSite(t *testing.T, validators bool) *rebuiltSite {
	s := &rebuiltSite{validators: validators, page: "<html><body><article><p>The lighthouse keeper retires after forty years on the rock.</p></article></body></html>"}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			if s.robots == "" {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, s.robots)
		case "/atom.xml":
			s.builds++
			updated := time.Date(2026, 3, 7, 8, 0, s.builds, 0, time.UTC).Format(time.RFC3339)
			w.Header().Set("Content-Type", "application/atom+xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Rock Gazette</title><id>urn:rock</id><updated>%s</updated>
<entry><id>urn:rock:keeper</id><title>Keeper retires</title><link href="%s/keeper"/><updated>%s</updated></entry>
</feed>`, updated, s.srv.URL, updated)
		case "/keeper":
			etag := fmt.Sprintf(`"%x"`, len(s.page))
			if s.validators {
				w.Header().Set("ETag", etag)
				if r.Header.Get("If-None-Match") == etag {
					s.nms++
					w.WriteHeader(http.StatusNotModified)
					return
				}
			}
			s.served++
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, s.page)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *rebuiltSite) edit(page string) {
	s.mu.Lock()
	s.page = page
	s.mu.Unlock()
}

func (s *rebuiltSite) counts() (builds, served, notModified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.builds, s.served, s.nms
}

// TestRebuiltFeedRefetchesOnlyChangedPages: an Atom entry whose updated
// time moves at every feed build, with no published time, is fetched
// again conditionally and published again only when its page changed.
func TestRebuiltFeedRefetchesOnlyChangedPages(t *testing.T) {
	for _, validators := range []bool{true, false} {
		t.Run(fmt.Sprintf("validators=%v", validators), func(t *testing.T) {
			site := newRebuiltSite(t, validators)
			f, err := NewFeed(site.srv.URL+"/atom.xml", "")
			if err != nil {
				t.Fatal(err)
			}
			clock := &fakeClock{t: time.Date(2026, 3, 7, 9, 0, 0, 0, time.UTC)}
			pub := &memPub{}
			p, err := NewPoller(PollerConfig{
				Feeds:     []Feed{f},
				Client:    NewClient(ClientOptions{AllowPrivateNetworks: true, Timeout: 10 * time.Second}),
				Publisher: pub,
				State:     newMemState(),
				Seen:      newMemVersions(),
				Interval:  time.Minute,
				Jitter:    -1,
				Logger:    testLogger(t),
				Now:       clock.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			poll := func() {
				t.Helper()
				pollDue(t, p)
				clock.Advance(time.Minute)
			}
			poll()
			if n := len(pub.articles()); n != 1 {
				t.Fatalf("first poll published %d articles, want 1", n)
			}
			for range 3 {
				poll()
			}
			builds, served, nms := site.counts()
			if n := len(pub.articles()); n != 1 || builds != 4 {
				t.Fatalf("after 4 builds of an unchanged page: %d published, want 1 (builds %d)", n, builds)
			}
			if validators && (served != 1 || nms != 3) {
				t.Errorf("page served %d times and 304 %d times, want 1 and 3", served, nms)
			}
			if got := p.Stats().PagesNotModified; got != 3 {
				t.Errorf("PagesNotModified = %d, want 3", got)
			}

			site.edit("<html><body><article><p>The lighthouse keeper retires after forty-one years on the rock.</p></article></body></html>")
			poll()
			got := pub.articles()
			if len(got) != 2 {
				t.Fatalf("after an edit: %d published, want 2", len(got))
			}
			if got[1].ID == got[0].ID || got[1].Item.GUID != got[0].Item.GUID || string(got[1].Body) == string(got[0].Body) {
				t.Errorf("the edit was published as %s (GUID %q), the first as %s: want a new id for the new body of the same item",
					got[1].ID, got[1].Item.GUID, got[0].ID)
			}
			poll()
			if n := len(pub.articles()); n != 2 {
				t.Errorf("a rebuild after the edit published again: %d articles", n)
			}
		})
	}
}

// TestRevisitKeepsToRobots: the page of an updated item is not fetched
// again when the site's robots.txt disallows it.
func TestRevisitKeepsToRobots(t *testing.T) {
	site := newRebuiltSite(t, true)
	site.mu.Lock()
	site.robots = "User-agent: *\nDisallow: /keeper\n"
	site.mu.Unlock()
	f, err := NewFeed(site.srv.URL+"/atom.xml", "")
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Date(2026, 3, 7, 9, 0, 0, 0, time.UTC)}
	p, err := NewPoller(PollerConfig{
		Feeds:     []Feed{f},
		Client:    NewClient(ClientOptions{AllowPrivateNetworks: true, Timeout: 10 * time.Second}),
		Publisher: &memPub{},
		State:     newMemState(),
		Seen:      newMemVersions(),
		Interval:  time.Minute,
		Jitter:    -1,
		Logger:    testLogger(t),
		Now:       clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		pollDue(t, p)
		clock.Advance(time.Minute)
	}
	if builds, served, nms := site.counts(); builds != 4 || served+nms != 0 {
		t.Errorf("after %d feed builds, a page robots.txt disallows was requested %d times, want none", builds, served+nms)
	}
}
