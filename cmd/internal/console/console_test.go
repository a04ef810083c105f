package console

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// hostile is an article as a hostile feed would like it stored: script in
// every text field and javascript: in every URL. The processor strips
// these; the console must not rely on it.
func hostile() process.Article {
	const js = "javascript:alert(1)"
	return process.Article{SchemaVersion: process.ArticleSchemaVersion, ID: "hostile", URL: js, Link: js,
		Feed: "evil", Title: `<script>alert("title")</script>Harbour news`, Authors: []string{`<img src=x onerror=alert(1)>`},
		Language: "en", SiteName: `"><script>alert(2)</script>`, Description: `<b onmouseover=alert(3)>bold</b> harbour`,
		Image: js, Tags: []string{"<i>tag</i>"}, Text: "The harbour festival opened.", HTML: "<p>The harbour <em>festival</em> opened.</p>",
		Published: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), ContentHash: "sha256:hostile", FetchedAt: time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC),
		ExtractorVersion: process.ExtractorVersion, DuplicateOf: `x" onclick="alert(4)`}
}

func newTestConsole(t *testing.T, o Options) *httptest.Server {
	t.Helper()
	if o.Articles == nil {
		s, err := store.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "news.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Upsert(t.Context(), []process.Article{hostile()}); err != nil {
			t.Fatal(err)
		}
		o.Articles = s
	}
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return srv
}

// client keeps cookies, and does not follow redirects.
func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func fetch(t *testing.T, c *http.Client, method, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// unsafeMarkup parses the page and returns what would run script: a
// script element, an event handler attribute or a javascript: URL.
func unsafeMarkup(t *testing.T, page string) string {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if n.Data == "script" {
			return "a script element"
		}
		for _, a := range n.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(a.Key, "on") || ((a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(v, "javascript:")) {
				return fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
		}
	}
	return ""
}

// TestHostileFieldsEscaped: the article page and the search results show
// a hostile article's fields as text, its sanitized html as html, and no
// javascript: link or image.
func TestHostileFieldsEscaped(t *testing.T) {
	srv := newTestConsole(t, Options{})
	c := client(t)
	for _, path := range []string{"/articles/hostile", "/articles?q=harbour", "/articles?feed=evil&sort=published"} {
		status, body, h := fetch(t, c, "GET", srv.URL+path, nil)
		if status != 200 {
			t.Fatalf("GET %s: status %d: %s", path, status, body)
		}
		if m := unsafeMarkup(t, body); m != "" {
			t.Errorf("GET %s: the page has %q", path, m)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;Harbour news") {
			t.Errorf("GET %s: the title is not shown escaped", path)
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("GET %s: CSP %q", path, h.Get("Content-Security-Policy"))
		}
	}
	_, body, _ := fetch(t, c, "GET", srv.URL+"/articles/hostile", nil)
	for _, want := range []string{"<p>The harbour <em>festival</em> opened.</p>", "&lt;img src=x onerror=alert(1)&gt;", "&lt;b onmouseover=alert(3)&gt;bold&lt;/b&gt;", "<dt>URL</dt><dd>javascript:alert(1)</dd>"} {
		if !strings.Contains(body, want) {
			t.Errorf("the article page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="original"`) || strings.Contains(body, `class="lead"`) {
		t.Error("the article page links to a javascript: original or shows a javascript: image")
	}
}

func TestFeedsPageEscapes(t *testing.T) {
	srv := newTestConsole(t, Options{})
	c, _ := New(Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), FeedEditor: nil})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", srv.URL+"/feeds", nil)
	c.render(rec, req, 200, "feeds", view{Title: "Feeds", Data: feedsData{Edit: true, Feeds: []Feed{{Token: "evil", URL: "javascript:alert(1)",
		Title: "<script>alert(1)</script>", LastError: `<img src=x onerror=alert(1)>`, ErrorStreak: 2}}}})
	body := rec.Body.String()
	if m := unsafeMarkup(t, body); m != "" {
		t.Errorf("the feeds page has %q", m)
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "failing (2)") {
		t.Errorf("the feeds page does not show the hostile feed escaped:\n%s", body)
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestLoginAndCSRF: with a token, every page asks to log in; the login
// needs the token and the form's CSRF token; forms need the session's
// CSRF token and the same origin.
func TestLoginAndCSRF(t *testing.T) {
	const token = "a-token-of-some-length"
	srv := newTestConsole(t, Options{Token: token})
	c := client(t)
	status, _, h := fetch(t, c, "GET", srv.URL+"/articles?q=harbour", nil)
	if status != http.StatusSeeOther || h.Get("Location") != "/login?next="+url.QueryEscape("/articles?q=harbour") {
		t.Fatalf("before login: %d to %q, want the login page", status, h.Get("Location"))
	}
	_, body, _ := fetch(t, c, "GET", srv.URL+"/login?next=/articles", nil)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the login page has no CSRF token:\n%s", body)
	}
	loginCSRF := m[1]
	if status, _, _ := fetch(t, c, "POST", srv.URL+"/login", url.Values{"token": {token}, "next": {"/articles"}}); status != http.StatusForbidden {
		t.Errorf("login without CSRF token: status %d, want 403", status)
	}
	if status, _, _ := fetch(t, c, "POST", srv.URL+"/login", url.Values{"csrf": {loginCSRF}, "token": {"wrong-token-of-some-length"}}); status != http.StatusUnauthorized {
		t.Errorf("login with a wrong token: status %d, want 401", status)
	}
	status, _, h = fetch(t, c, "POST", srv.URL+"/login", url.Values{"csrf": {loginCSRF}, "token": {token}, "next": {"//evil.example/"}})
	if status != http.StatusSeeOther || h.Get("Location") != "/" {
		t.Fatalf("login: %d to %q, want / (not another site)", status, h.Get("Location"))
	}
	status, body, _ = fetch(t, c, "GET", srv.URL+"/articles?q=harbour", nil)
	if status != 200 || !strings.Contains(body, `href="/articles/hostile"`) {
		t.Fatalf("after login: status %d", status)
	}
	csrf := csrfField.FindStringSubmatch(body)[1]
	if csrf == loginCSRF {
		t.Error("the session kept its id through the login")
	}
	// A form without the CSRF token, or with another session's, is refused
	// before it does anything; with it, it reaches its handler.
	for _, tt := range []struct {
		form   url.Values
		status int
	}{
		{url.Values{}, http.StatusForbidden},
		{url.Values{"csrf": {loginCSRF}}, http.StatusForbidden},
		{url.Values{"csrf": {csrf}}, http.StatusBadRequest}, // "first" is not a number
	} {
		if status, _, _ := fetch(t, c, "POST", srv.URL+"/parked/first/retry", tt.form); status != tt.status {
			t.Errorf("retry with %v: status %d, want %d", tt.form, status, tt.status)
		}
	}
	req, _ := http.NewRequest("POST", srv.URL+"/parked/first/retry", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, err := c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site form: %v %v, want 403", resp.StatusCode, err)
	}
	if status, _, _ := fetch(t, c, "POST", srv.URL+"/logout", url.Values{"csrf": {csrf}}); status != http.StatusSeeOther {
		t.Errorf("logout: status %d", status)
	}
	if status, _, _ := fetch(t, c, "GET", srv.URL+"/articles", nil); status != http.StatusSeeOther {
		t.Errorf("after logout: status %d, want the login page", status)
	}
}

func TestSessionCookieTampered(t *testing.T) {
	s := newSessions("a-token-of-some-length")
	ss := s.fresh(true)
	v := s.encode(ss)
	if got, ok := s.decode(v); !ok || !got.authed || got.id != ss.id {
		t.Fatalf("decode(encode) = %+v, %v", got, ok)
	}
	b := []byte(v)
	b[22] ^= 1 // flip a bit of the data, keeping the MAC
	for _, bad := range []string{string(b), v + "x", "", strings.Replace(v, ".", "", 1)} {
		if _, ok := s.decode(bad); ok {
			t.Errorf("decode(%q) accepted", bad)
		}
	}
	if _, ok := newSessions("another-token-of-length").decode(v); ok {
		t.Error("a session of another token was accepted")
	}
	s.now = func() time.Time { return time.Now().Add(sessionTTL + time.Second) }
	if _, ok := s.decode(v); ok {
		t.Error("an expired session was accepted")
	}
}
