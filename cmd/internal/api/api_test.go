package api

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
	"github.com/newsflow/newsflow/store/storetest"
)

var day = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

func article(id string, hoursAgo int, title, text string) process.Article {
	return process.Article{
		SchemaVersion: process.ArticleSchemaVersion, ID: id, URL: "https://news.example.org/" + id,
		Feed: "town", Title: title, Text: text, Authors: []string{"Ola Nordmann"}, Language: "en",
		SiteName: "Town Crier", Published: day.Add(-time.Duration(hoursAgo) * time.Hour),
		ContentHash: "sha256:" + id, Fingerprint: fmt.Sprintf("%016x", uint64(len(id))*0x9e3779b97f4a7c15+uint64(hoursAgo)*0xbf58476d1ce4e5b9),
		FetchedAt: day, ExtractorVersion: process.ExtractorVersion,
	}
}

// fixture is a small made-up newsroom, stored in s.
func fixture(t *testing.T, s store.Store) {
	t.Helper()
	bridge := article("bridge", 1, "Footbridge reopens", "The footbridge over the river reopened after the dry dock repairs.")
	ferry := article("ferry", 2, "Harbour ferry returns", "The ferry left the dry dock and sailed to the island.")
	ferry.Authors = []string{"Kari Nordmann"}
	copyOf := article("ferry-copy", 3, "Harbour ferry returns again", ferry.Text)
	copyOf.Fingerprint = ferry.Fingerprint[:15] + "0"
	if copyOf.Fingerprint == ferry.Fingerprint {
		copyOf.Fingerprint = ferry.Fingerprint[:15] + "1"
	}
	choir := article("choir", 4, "Chor singt in der Bibliothek", "Der Chor sang in der Bibliothek.")
	choir.Language, choir.Feed, choir.SiteName = "de", "stadt", "Stadtbote"
	if _, err := s.Upsert(t.Context(), []process.Article{bridge, ferry, copyOf, choir}); err != nil {
		t.Fatal(err)
	}
}

func openSQLite(t *testing.T) store.Store {
	s, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "news.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) store.Store {
	s, err := store.OpenPostgres(t.Context(), storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func backends(t *testing.T, test func(t *testing.T, srv *httptest.Server)) {
	storeBackends(t, func(t *testing.T, _ store.Store, srv *httptest.Server) { test(t, srv) })
}

// storeBackends is backends that also gives the test the store.
func storeBackends(t *testing.T, test func(t *testing.T, s store.Store, srv *httptest.Server)) {
	for name, open := range map[string]func(*testing.T) store.Store{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			fixture(t, s)
			srv := httptest.NewServer(New(s, "", slog.New(slog.NewTextHandler(io.Discard, nil))))
			t.Cleanup(srv.Close)
			test(t, s, srv)
		})
	}
}

// get fetches path and decodes the JSON answer into v, checking the
// status.
func get(t *testing.T, srv *httptest.Server, path string, status int, v any) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s: status %d, want %d: %s", path, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

type page struct {
	Articles []map[string]any `json:"articles"`
	Next     string           `json:"next"`
}

func (p page) ids() []string {
	out := []string{}
	for _, a := range p.Articles {
		out = append(out, a["id"].(string))
	}
	return out
}

func TestSearch(t *testing.T) {
	backends(t, func(t *testing.T, srv *httptest.Server) {
		tests := []struct {
			query string
			want  []string
		}{
			{"", []string{"bridge", "ferry", "ferry-copy", "choir"}},
			{"?q=footbridge", []string{"bridge"}},
			{"?q=%22dry+dock%22&sort=published", []string{"bridge", "ferry", "ferry-copy"}},
			{"?q=ferry+-island", []string{}},
			{"?q=chor+OR+footbridge&sort=published", []string{"bridge", "choir"}},
			{"?feed=stadt", []string{"choir"}},
			{"?site=town+crier&language=en&limit=100", []string{"bridge", "ferry", "ferry-copy"}},
			{"?language=de", []string{"choir"}},
			{"?author=KARI+NORDMANN", []string{"ferry"}},
			{"?since=2026-03-13T21:30:00Z&until=2026-03-13T23:00:00Z", []string{"ferry"}},
			{"?since=2026-03-13&q=dock&sort=published", []string{"bridge", "ferry", "ferry-copy"}},
			{"?has_duplicates=true", []string{"ferry", "ferry-copy"}},
			{"?has_duplicates=false", []string{"bridge", "choir"}},
		}
		for _, tt := range tests {
			var p page
			get(t, srv, "/api/v1/articles"+tt.query, http.StatusOK, &p)
			if got := p.ids(); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
			}
		}
	})
}

func TestSearchPagesAndFields(t *testing.T) {
	backends(t, func(t *testing.T, srv *httptest.Server) {
		var got []string
		path := "/api/v1/articles?limit=1&fields=id,title"
		for n := 0; path != ""; n++ {
			if n > 4 {
				t.Fatal("more pages than articles")
			}
			var p page
			get(t, srv, path, http.StatusOK, &p)
			got = append(got, p.ids()...)
			for _, a := range p.Articles {
				if len(a) != 2 || a["title"] == nil {
					t.Errorf("fields=id,title gave %v", a)
				}
			}
			path = p.Next
		}
		if want := []string{"bridge", "ferry", "ferry-copy", "choir"}; !slices.Equal(got, want) {
			t.Errorf("pages gave %v, want %v", got, want)
		}
	})
}

func TestGetArticle(t *testing.T) {
	backends(t, func(t *testing.T, srv *httptest.Server) {
		var ans struct {
			Article        process.Article  `json:"article"`
			NearDuplicates []map[string]any `json:"near_duplicates"`
		}
		get(t, srv, "/api/v1/articles/ferry-copy", http.StatusOK, &ans)
		if ans.Article.ID != "ferry-copy" || ans.Article.DuplicateOf != "ferry" || ans.Article.Text == "" {
			t.Errorf("article = %+v", ans.Article)
		}
		if len(ans.NearDuplicates) != 1 || ans.NearDuplicates[0]["id"] != "ferry" {
			t.Errorf("near duplicates of ferry-copy = %v, want ferry", ans.NearDuplicates)
		}
		get(t, srv, "/api/v1/articles/ferry", http.StatusOK, &ans)
		if len(ans.NearDuplicates) != 1 || ans.NearDuplicates[0]["id"] != "ferry-copy" {
			t.Errorf("near duplicates of ferry = %v, want ferry-copy", ans.NearDuplicates)
		}
		var some struct {
			Article map[string]any `json:"article"`
		}
		get(t, srv, "/api/v1/articles/bridge?fields=url", http.StatusOK, &some)
		if len(some.Article) != 1 || some.Article["url"] != "https://news.example.org/bridge" {
			t.Errorf("fields=url gave %v", some.Article)
		}
	})
}

func TestErrors(t *testing.T) {
	backends(t, func(t *testing.T, srv *httptest.Server) {
		tests := []struct {
			path   string
			status int
			param  string
		}{
			{"/api/v1/articles?limit=0", 400, "limit"},
			{"/api/v1/articles?limit=101", 400, "limit"},
			{"/api/v1/articles?since=yesterday", 400, "since"},
			{"/api/v1/articles?since=2026-03-14&until=2026-03-13", 400, "until"},
			{"/api/v1/articles?has_duplicates=maybe", 400, "has_duplicates"},
			{"/api/v1/articles?sort=relevance", 400, "sort"},
			{"/api/v1/articles?sort=oldest", 400, "sort"},
			{"/api/v1/articles?q=-ferry", 400, "q"},
			{"/api/v1/articles?cursor=abc", 400, "cursor"},
			{"/api/v1/articles?fields=id,secret", 400, "fields"},
			{"/api/v1/articles?colour=red", 400, "colour"},
			{"/api/v1/articles?q=a&q=b", 400, "q"},
			{"/api/v1/articles/absent", 404, ""},
			{"/api/v1/articles/bridge?limit=1", 400, "limit"},
			{"/api/v1/nothing", 404, ""},
		}
		for _, tt := range tests {
			var e apiError
			get(t, srv, tt.path, tt.status, &e)
			if e.Status != tt.status || e.Param != tt.param || e.Error == "" || (tt.param != "" && !strings.Contains(e.Error, tt.param)) {
				t.Errorf("%s: error %+v, want status %d naming %q", tt.path, e, tt.status, tt.param)
			}
		}
		resp, err := srv.Client().Post(srv.URL+"/api/v1/articles", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" {
			t.Errorf("POST: status %d, Allow %q; want 405 and GET", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
}

func TestToken(t *testing.T) {
	s := openSQLite(t)
	fixture(t, s)
	const token = testToken
	srv := httptest.NewServer(New(s, token, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	for _, tt := range []struct {
		auth   string
		status int
	}{
		{"", 401},
		{"Bearer wrong-token-of-some-length", 401},
		{"Basic " + token, 401},
		{"Bearer " + token, 200},
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/articles?q=ferry", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("Authorization %q: status %d, want %d", tt.auth, resp.StatusCode, tt.status)
		}
	}
}

// TestOpenAPI checks the document against the handlers: every documented
// path and method answers, every registered route is documented, and the
// search parameters are the ones the handler reads.
func TestOpenAPI(t *testing.T) {
	s := openSQLite(t)
	fixture(t, s)
	h := New(s, testToken, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := newParkedWorld(t, "one")
	h.MountParked(parkedBus{w.bus})
	h.MountStats(statsOf{w.bus, s})
	parked, _, err := w.bus.ParkedAfter(t.Context(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	params := strings.NewReplacer("{id}", "bridge", "{seq}", fmt.Sprint(parked[0].Seq))
	fs := newFeedSetup(t, s)
	h.ServeFeeds(fs.feeds)
	// A feed whose token is the id every path gets below.
	if _, err := fs.reg.AddFeed(t.Context(), ingest.Feed{URL: "https://town.example.org/rss", Token: "bridge"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
	}
	do(t, srv, "GET", "/api/v1/openapi.json", testToken, http.StatusOK, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			route := strings.ToUpper(method) + " " + path
			documented = append(documented, route)
			if !slices.ContainsFunc(slices.Collect(maps.Keys(op.Responses)), func(s string) bool { return strings.HasPrefix(s, "2") }) {
				t.Errorf("%s: no 2xx response documented", route)
			}
			if path == "/api/v1/articles" {
				var names []string
				for _, p := range op.Parameters {
					names = append(names, p.Name)
				}
				if !slices.Equal(slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(searchParams))) {
					t.Errorf("documented parameters %v, the handler reads %v", names, searchParams)
				}
			}
		}
	}
	// Each route answers a request with no body with a documented status,
	// 200 for a GET; the DELETE goes last, as it removes the feed.
	slices.SortFunc(documented, func(a, b string) int {
		last := func(r string) int {
			if strings.HasPrefix(r, "DELETE") {
				return 1
			}
			return 0
		}
		return cmp.Or(cmp.Compare(last(a), last(b)), strings.Compare(a, b))
	})
	for _, route := range documented {
		method, path, _ := strings.Cut(route, " ")
		req, _ := http.NewRequest(method, srv.URL+params.Replace(path), nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if method == http.MethodGet && resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d, want 200", route, resp.StatusCode)
		}
		if doc.Paths[path][strings.ToLower(method)].Responses[strconv.Itoa(resp.StatusCode)] == nil {
			t.Errorf("%s: status %d is not documented", route, resp.StatusCode)
		}
	}
	slices.Sort(documented)
	if routes := slices.Sorted(slices.Values(h.Routes())); !slices.Equal(routes, documented) {
		t.Errorf("registered routes %v, documented %v", routes, documented)
	}
}

func TestTokenFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	os.WriteFile(file, []byte("  from-a-file-0123456789\n"), 0o600)
	tests := []struct {
		env  map[string]string
		want string
		err  string
	}{
		{env: map[string]string{}, want: ""},
		{env: map[string]string{"NEWSFLOW_API_TOKEN": "inline-0123456789"}, want: "inline-0123456789"},
		{env: map[string]string{"NEWSFLOW_API_TOKEN_FILE": file}, want: "from-a-file-0123456789"},
		{env: map[string]string{"NEWSFLOW_API_TOKEN": "short"}, err: "$NEWSFLOW_API_TOKEN: the API token is shorter"},
		{env: map[string]string{"NEWSFLOW_API_TOKEN_FILE": filepath.Join(dir, "absent")}, err: "$NEWSFLOW_API_TOKEN_FILE"},
		{env: map[string]string{"NEWSFLOW_API_TOKEN": "inline-0123456789", "NEWSFLOW_API_TOKEN_FILE": file}, err: "both set"},
	}
	for _, tt := range tests {
		got, err := TokenFromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: error %v, want %q", tt.env, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%v: %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	for _, tt := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8080", "", true},
		{"[::1]:8080", "", true},
		{"localhost:8080", "", true},
		{":8080", "", false},
		{"0.0.0.0:8080", "", false},
		{"192.0.2.7:8080", "", false},
		{":8080", "a-token-of-some-length", true},
	} {
		if err := CheckAddr(tt.addr, tt.token); (err == nil) != tt.ok {
			t.Errorf("CheckAddr(%q, %q) = %v, want ok %v", tt.addr, tt.token, err, tt.ok)
		}
	}
}
