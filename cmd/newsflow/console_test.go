package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	csrfValue = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	feedRow   = regexp.MustCompile(`<tr id="feed-([^"]+)"`)
)

// consoleClient keeps the console's session cookie and does not follow
// redirects.
type consoleClient struct {
	t    *testing.T
	srv  *httptest.Server
	http *http.Client
}

func newConsoleClient(t *testing.T, srv *httptest.Server) *consoleClient {
	jar, _ := cookiejar.New(nil)
	return &consoleClient{t: t, srv: srv, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *consoleClient) do(req *http.Request) (int, string, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

func (c *consoleClient) get(path string) (int, string, string) {
	req, _ := http.NewRequest("GET", c.srv.URL+path, nil)
	return c.do(req)
}

// csrf is the session's CSRF token, from a form of the Feeds page.
func (c *consoleClient) csrf() string {
	c.t.Helper()
	_, body, _ := c.get("/feeds")
	m := csrfValue.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF token on the Feeds page:\n%s", body)
	}
	return m[1]
}

func (c *consoleClient) post(path string, form url.Values) (int, string, string) {
	req, _ := http.NewRequest("POST", c.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// TestConsoleFeedsOPML: an OPML file imported on the Feeds page registers
// its feeds, the export lists them, and a feed removed there is gone.
func TestConsoleFeedsOPML(t *testing.T) {
	site := newTestSite(t)
	dir := t.TempDir()
	r := startPipeline(t, testConfig("", filepath.Join(dir, "data")))
	defer r.stop(t)
	mux := http.NewServeMux()
	if err := r.mountAPI(t.Context(), mux, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newConsoleClient(t, srv)
	csrf := c.csrf()

	town, science := site.URL+"/feeds/town.rss", site.URL+"/feeds/science.atom"
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("opml", "feeds.opml")
	io.WriteString(fw, `<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
<outline text="Town" xmlUrl="`+town+`"/><outline text="Science" xmlUrl="`+science+`"/></body></opml>`)
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/feeds/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if status, page, loc := c.do(req); status != http.StatusSeeOther || loc != "/feeds?imported=2" {
		t.Fatalf("import: status %d to %q: %s", status, loc, page)
	}
	_, page, _ := c.get("/feeds")
	rows := feedRow.FindAllStringSubmatch(page, -1)
	if len(rows) != 2 || !strings.Contains(page, town) || !strings.Contains(page, science) {
		t.Fatalf("after the import the Feeds page lists %d feeds:\n%s", len(rows), page)
	}
	status, opml, _ := c.get("/feeds/export")
	if status != 200 || !strings.Contains(opml, `xmlUrl="`+town+`"`) || !strings.Contains(opml, `xmlUrl="`+science+`"`) {
		t.Errorf("export: status %d:\n%s", status, opml)
	}

	// Remove the town feed from its row.
	var townToken string
	for _, m := range rows {
		row := page[strings.Index(page, m[0]):]
		if strings.Contains(row[:strings.Index(row, "</tr>")], town) {
			townToken = m[1]
		}
	}
	if status, _, loc := c.post("/feeds/"+townToken+"/remove", url.Values{"csrf": {csrf}}); status != http.StatusSeeOther || loc != "/feeds?removed" {
		t.Fatalf("remove: status %d to %q", status, loc)
	}
	_, page, _ = c.get("/feeds?removed")
	if strings.Contains(page, town) || !strings.Contains(page, science) || !strings.Contains(page, "Feed removed.") {
		t.Errorf("after removing the town feed the Feeds page is:\n%s", page)
	}
	// Mistakes are shown on the page, which keeps running.
	if status, page, _ := c.post("/feeds", url.Values{"csrf": {csrf}, "url": {"not a url"}}); status != http.StatusBadRequest || !strings.Contains(page, "Could not add the feed") {
		t.Errorf("adding a bad URL: status %d", status)
	}
	if status, _, _ := c.post("/feeds/no-such-feed/pause", url.Values{"csrf": {csrf}}); status != http.StatusBadRequest {
		t.Errorf("pausing an unknown feed: status %d, want 400", status)
	}
}

// With an API token, the console of `run` asks for it.
func TestConsoleAsksForToken(t *testing.T) {
	cfg := testConfig("", filepath.Join(t.TempDir(), "data"))
	cfg.apiToken = "a-token-of-some-length"
	r := startPipeline(t, cfg)
	defer r.stop(t)
	mux := http.NewServeMux()
	if err := r.mountAPI(t.Context(), mux, ":0"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newConsoleClient(t, srv)
	if status, _, loc := c.get("/parked"); status != http.StatusSeeOther || loc != "/login?next=%2Fparked" {
		t.Errorf("GET /parked without logging in: %d to %q, want the login page", status, loc)
	}
	_, page, _ := c.get("/login?next=/parked")
	csrf := csrfValue.FindStringSubmatch(page)[1]
	if status, _, loc := c.post("/login", url.Values{"csrf": {csrf}, "token": {"a-token-of-some-length"}, "next": {"/parked"}}); status != http.StatusSeeOther || loc != "/parked" {
		t.Fatalf("login: %d to %q", status, loc)
	}
	if status, page, _ := c.get("/parked"); status != 200 || !strings.Contains(page, "Nothing is parked.") {
		t.Errorf("GET /parked after logging in: %d", status)
	}
}
