package ingest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDiscoverFeeds(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("testdata", "discover", "harbour.html"))
	if err != nil {
		t.Fatal(err)
	}
	got := DiscoverFeeds("https://Lantern.example.org/news/today", page)
	want := []string{"https://lantern.example.org/feeds/all.rss", "https://lantern.example.org/news/feeds/ferry.atom"}
	if !slices.Equal(got, want) {
		t.Errorf("DiscoverFeeds = %q, want %q", got, want)
	}
	based := DiscoverFeeds("https://lantern.example.org/", []byte(`<head><base href="https://cdn.example.net/site/"><link rel=alternate type=application/feed+json href=feed.json></head>`))
	if want := []string{"https://cdn.example.net/site/feed.json"}; !slices.Equal(based, want) {
		t.Errorf("with <base>: %q, want %q", based, want)
	}
	if got := DiscoverFeeds("https://lantern.example.org/", []byte("<p>no head at all")); len(got) != 0 {
		t.Errorf("page without feed links: %q", got)
	}
}

// lanternSite serves a home page linking to its feed, the feed, a page
// with no feed link, and a page whose only feed link is broken.
func lanternSite(t *testing.T) *httptest.Server {
	page, err := os.ReadFile(filepath.Join("testdata", "discover", "harbour.html"))
	if err != nil {
		t.Fatal(err)
	}
	feed, err := os.ReadFile(filepath.Join("testdata", "feeds", "gazette.rss"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			w.Write(page)
		case "/feeds/all.rss":
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(feed)
		case "/plain":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><head><title>Quay</title></head><body>No feeds here.</body></html>"))
		case "/broken":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte(`<head><link rel="alternate" type="application/rss+xml" href="/plain"></head>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFindFeed(t *testing.T) {
	srv := lanternSite(t)
	c := NewClient(ClientOptions{AllowPrivateNetworks: true})
	ctx := t.Context()

	f, links, err := c.FindFeed(ctx, srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if f.URL != srv.URL+"/feeds/all.rss" || f.Token != FeedToken(f.URL) || f.Title == "" || len(links) != 2 {
		t.Errorf("site: %+v, links %q", f, links)
	}
	direct, links, err := c.FindFeed(ctx, srv.URL+"/feeds/all.rss")
	if err != nil || direct != f || links != nil {
		t.Errorf("feed URL: %+v %q %v, want %+v", direct, links, err, f)
	}
	for _, tt := range []struct {
		url  string
		want error
	}{
		{srv.URL + "/plain", ErrNotAFeed},
		{srv.URL + "/broken", ErrNotAFeed},
		{"ftp://lantern.example.org/", ErrBadFeedURL},
		{"lantern.example.org/feed", ErrBadFeedURL},
	} {
		if _, _, err := c.FindFeed(ctx, tt.url); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.url, err, tt.want)
		}
	}
	var fe *FetchError
	if _, _, err := c.FindFeed(ctx, srv.URL+"/gone"); !errors.As(err, &fe) || fe.Status != http.StatusNotFound {
		t.Errorf("missing page: %v, want a FetchError with 404", err)
	}
	// The default client keeps its guard: no loopback addresses.
	if _, _, err := NewClient(ClientOptions{}).FindFeed(ctx, srv.URL+"/"); err == nil || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("loopback site through a guarded client: %v, want a refusal", err)
	}
}

func TestOPMLRoundTrip(t *testing.T) {
	var feeds []Feed
	for _, u := range []string{"https://gazette.example.org/rss", "https://courier.example.org/atom?lang=en&x=1", "https://lantern.example.org/feed.json"} {
		f, err := NewFeed(u, "")
		if err != nil {
			t.Fatal(err)
		}
		feeds = append(feeds, f)
	}
	feeds[0].Title = `Gazette & "Quay" <news>`
	var b strings.Builder
	if err := WriteOPML(&b, "newsflow feeds", time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), feeds); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFeedList(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("%v in\n%s", err, b.String())
	}
	if !slices.Equal(back, feeds) {
		t.Errorf("round trip:\n got %+v\nwant %+v\n%s", back, feeds, b.String())
	}
}

func FuzzDiscoverFeeds(f *testing.F) {
	page, _ := os.ReadFile(filepath.Join("testdata", "discover", "harbour.html"))
	f.Add("https://lantern.example.org/", page)
	f.Add("https://lantern.example.org/a/b", []byte(`<base href="//x.example/"><link rel=alternate type=application/rss+xml href="../f">`))
	f.Fuzz(func(t *testing.T, base string, page []byte) {
		got := DiscoverFeeds(base, page)
		if len(got) > maxDiscovered {
			t.Fatalf("%d links, more than %d", len(got), maxDiscovered)
		}
		for _, u := range got {
			if n, err := normalizeFeedURL(u); err != nil || n != u {
				t.Fatalf("link %q is not a normalised feed URL: %v", u, err)
			}
		}
	})
}
