package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"code.dny.dev/ssrf"
	"github.com/newsflow/newsflow/ingest/fault"
)

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestClientRefusesPrivateByDefault(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") })
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	tests := []struct {
		name, url, addr string
	}{
		{"loopback IP", srv.URL + "/x", "127.0.0.1"},
		{"name resolving to loopback", "http://localhost:" + port + "/x", "127.0.0.1"},
	}
	c := NewClient(ClientOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Get(context.Background(), tt.url, nil)
			if err == nil {
				t.Fatalf("Get(%s) = %d %q, want refusal", tt.url, resp.Status, resp.Body)
			}
			if !errors.Is(err, ErrPrivateAddress) {
				t.Fatalf("error %v does not wrap ErrPrivateAddress", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.url) || !strings.Contains(msg, tt.addr) {
				t.Errorf("error %q should name the URL %s and the address %s", msg, tt.url, tt.addr)
			}
			if fault.IsTemporary(err) {
				t.Errorf("refusal %v is temporary", err)
			}
		})
	}

	allowed := NewClient(ClientOptions{AllowPrivateNetworks: true})
	resp, err := allowed.Get(context.Background(), srv.URL+"/x", nil)
	if err != nil {
		t.Fatalf("with AllowPrivateNetworks: %v", err)
	}
	if resp.Status != 200 || string(resp.Body) != "secret" {
		t.Errorf("with AllowPrivateNetworks: %d %q", resp.Status, resp.Body)
	}
}

// TestClientRefusesRedirectToPrivate serves a "public" host (127.0.0.1,
// allowed as an exception) that redirects to another loopback address,
// which the dial-time check must refuse.
func TestClientRefusesRedirectToPrivate(t *testing.T) {
	var hits int
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		hits++
		_, port, _ := net.SplitHostPort(r.Host)
		switch r.URL.Path {
		case "/to-private":
			http.Redirect(w, r, "http://127.0.0.2:"+port+"/inside", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/to-ok":
			http.Redirect(w, r, "/ok", http.StatusMovedPermanently)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		default:
			fmt.Fprint(w, "public page")
		}
	})
	c := newClient(ClientOptions{}, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})
	ctx := context.Background()

	resp, err := c.Get(ctx, srv.URL+"/to-ok", nil)
	if err != nil {
		t.Fatalf("allowed redirect: %v", err)
	}
	if resp.FinalURL != srv.URL+"/ok" || resp.URL != srv.URL+"/to-ok" || string(resp.Body) != "public page" {
		t.Errorf("allowed redirect: URL %s FinalURL %s body %q", resp.URL, resp.FinalURL, resp.Body)
	}

	tests := []struct {
		path string
		want error
		text string
	}{
		{"/to-private", ErrPrivateAddress, "127.0.0.2"},
		{"/to-file", ErrUnsupportedScheme, "file"},
		{"/loop", ErrTooManyRedirects, "/loop"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := c.Get(ctx, srv.URL+tt.path, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), srv.URL+tt.path) {
				t.Errorf("error %q should name %q and the URL", err, tt.text)
			}
			if fault.IsTemporary(err) {
				t.Errorf("%v is temporary", err)
			}
		})
	}
}

func TestClientRefusesSchemes(t *testing.T) {
	c := NewClient(ClientOptions{AllowPrivateNetworks: true})
	for _, u := range []string{"file:///etc/passwd", "gopher://example.org/", "ftp://example.org/f", "/relative/path"} {
		_, err := c.Get(context.Background(), u, nil)
		if !errors.Is(err, ErrUnsupportedScheme) || !strings.Contains(err.Error(), u) {
			t.Errorf("Get(%q): error %v, want ErrUnsupportedScheme naming the URL", u, err)
		}
	}
}

func TestIsPrivateAddr(t *testing.T) {
	tests := []struct {
		addr    string
		private bool
	}{
		{"127.0.0.1", true},
		{"127.255.0.9", true},
		{"10.1.2.3", true},
		{"172.16.0.1", true},
		{"172.32.0.1", false},
		{"192.168.1.1", true},
		{"169.254.169.254", true}, // cloud metadata
		{"100.64.0.1", true},      // CGNAT
		{"100.128.0.1", false},
		{"0.0.0.0", true},
		{"224.0.0.1", true},
		{"255.255.255.255", true},
		{"8.8.8.8", false},
		{"93.184.215.14", false},
		{"::1", true},
		{"::", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fd12:3456::1", true}, // ULA
		{"fec0::1", true},      // site-local
		{"ff02::1", true},
		{"100::1", true}, // discard
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.0.0.1", true},
		{"::ffff:8.8.8.8", false},  // mapped public: dialed as 8.8.8.8
		{"::127.0.0.1", true},      // IPv4-compatible
		{"::a9fe:a9fe", true},      // IPv4-compatible 169.254.169.254
		{"::8.8.8.8", true},        // IPv4-compatible, deprecated
		{"64:ff9b::a00:1", true},   // NAT64 of 10.0.0.1
		{"64:ff9b::7f00:1", true},  // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", true}, // NAT64 at all: not ours to route
		{"64:ff9b:1::a9fe:a9fe", true},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true}, // Teredo
		{"2001:0::7f00:1", true},
		{"2002:7f00:1::", true},  // 6to4 of 127.0.0.1
		{"2002:808:808::", true}, // 6to4 at all
		{"2001:db8::1", true},    // documentation
		{"3fff::1", true},        // documentation
		{"2606:4700::1111", false},
		{"2a00:1450:4001::200e", false},
	}
	for _, tt := range tests {
		if got := isPrivateAddr(netip.MustParseAddr(tt.addr)); got != tt.private {
			t.Errorf("isPrivateAddr(%s) = %v, want %v", tt.addr, got, tt.private)
		}
	}
	// Every special-purpose range, at both ends.
	for _, p := range append(slices.Clone(ssrf.IPv4DeniedPrefixes), ssrf.IPv6DeniedPrefixes...) {
		first := p.Masked().Addr()
		last := lastAddr(p)
		for _, ip := range []netip.Addr{first, last} {
			if !isPrivateAddr(ip) {
				t.Errorf("isPrivateAddr(%s) = false, in special range %s", ip, p)
			}
		}
		if p.Addr().Is4() {
			// The same range embedded in IPv6, every way it can be.
			for _, v6 := range []string{"::%s", "::ffff:%s", "64:ff9b::%s"} {
				ip := netip.MustParseAddr(fmt.Sprintf(v6, first))
				if !isPrivateAddr(ip) {
					t.Errorf("isPrivateAddr(%s) = false, embeds %s", ip, p)
				}
			}
		}
	}
}

// lastAddr is the highest address in p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestClientBodyLimit(t *testing.T) {
	big := strings.Repeat("x", 3000)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/announced" {
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
		} else {
			w.(http.Flusher).Flush() // chunked: no length announced
		}
		fmt.Fprint(w, big)
	})
	c := NewClient(ClientOptions{AllowPrivateNetworks: true, MaxBodyBytes: 1000})
	for _, path := range []string{"/announced", "/chunked"} {
		_, err := c.Get(context.Background(), srv.URL+path, nil)
		if !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("%s: error %v, want ErrBodyTooLarge", path, err)
		}
		if !strings.Contains(err.Error(), srv.URL+path) || !strings.Contains(err.Error(), "1000") {
			t.Errorf("%s: error %q should name the URL and the limit", path, err)
		}
	}
	c = NewClient(ClientOptions{AllowPrivateNetworks: true, MaxBodyBytes: 3000})
	resp, err := c.Get(context.Background(), srv.URL+"/chunked", nil)
	if err != nil || len(resp.Body) != 3000 {
		t.Errorf("body at the limit: %v", err)
	}
}

func TestClientTimeoutIsTemporary(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := NewClient(ClientOptions{AllowPrivateNetworks: true, Timeout: 50 * time.Millisecond})
	_, err := c.Get(context.Background(), srv.URL, nil)
	if err == nil || !fault.IsTemporary(err) || !isTimeout(err) {
		t.Errorf("hanging server: error %v, want a temporary timeout", err)
	}
}

// A good response whose body breaks off is worth another try.
func TestClientCutBodyIsTemporary(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "<html><body><p>The first part of the story")
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	c := NewClient(ClientOptions{AllowPrivateNetworks: true})
	_, err := c.Get(context.Background(), srv.URL, nil)
	if err == nil || !fault.IsTemporary(err) {
		t.Errorf("body cut off: error %v, want a temporary one", err)
	}
}

func TestClientSendsHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() })
	c := NewClient(ClientOptions{AllowPrivateNetworks: true, UserAgent: "tester/2"})
	if _, err := c.Get(context.Background(), srv.URL, http.Header{"If-None-Match": {`"v1"`}}); err != nil {
		t.Fatal(err)
	}
	h := <-got
	if h.Get("User-Agent") != "tester/2" || h.Get("If-None-Match") != `"v1"` {
		t.Errorf("request headers %v", h)
	}
}

func TestFetchErrorTemporary(t *testing.T) {
	tests := []struct {
		err  *FetchError
		temp bool
	}{
		{&FetchError{Status: 404}, false},
		{&FetchError{Status: 410}, false},
		{&FetchError{Status: 403}, false},
		{&FetchError{Status: 408}, true},
		{&FetchError{Status: 429}, true},
		{&FetchError{Status: 500}, true},
		{&FetchError{Status: 503}, true},
		{&FetchError{Status: 300}, false},
		{&FetchError{Err: errors.New("connection reset")}, true},
		{&FetchError{Err: fmt.Errorf("dial: %w", ErrPrivateAddress)}, false},
		{&FetchError{Status: 200, Err: ErrBodyTooLarge}, false},
		{&FetchError{Status: 200, Err: ErrParseFeed}, false},
	}
	for _, tt := range tests {
		if got := tt.err.Temporary(); got != tt.temp {
			t.Errorf("%v: Temporary() = %v, want %v", tt.err, got, tt.temp)
		}
		wrapped := fmt.Errorf("outer: %w", tt.err)
		if fault.IsTemporary(wrapped) != tt.temp {
			t.Errorf("fault.IsTemporary(wrapped %v) = %v", tt.err, !tt.temp)
		}
	}
	if msg := (&FetchError{URL: "https://a.example.org/x", Status: 404}).Error(); !strings.Contains(msg, "https://a.example.org/x") || !strings.Contains(msg, "404") {
		t.Errorf("message %q should name URL and status", msg)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"99999999999", 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestClientRefusesNonHTMLPages: a page that is not HTML is refused by its
// type, or by its first bytes when the type says nothing, without reading
// the rest: the body of each page refused before reading never ends, so a
// client that read it whole would time out instead.
func TestClientRefusesNonHTMLPages(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	gz := "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
	pdf := "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
	html := "<!doctype html><html><head><title>Tide</title></head><body><p>High water.</p></body></html>"
	tests := []struct {
		name, ctype, body string
		want              string // "" when the page is taken
	}{
		{"png by type", "image/png", png, "not an HTML page: image/png"},
		{"pdf by type", "application/pdf", pdf, "not an HTML page: application/pdf"},
		{"gzip by type", "application/gzip", gz, "not an HTML page: application/gzip"},
		{"json by type", "application/json", `{"a":1}`, "not an HTML page: application/json"},
		{"png without type", "", png, "not an HTML page: image/png"},
		{"gzip as octet-stream", "application/octet-stream", gz, "not an HTML page: application/x-gzip"},
		{"pdf as text/plain", "text/plain", pdf, "not an HTML page: application/pdf"},
		{"png as text/html", "text/html", png, "not an HTML page: image/png (sent as text/html)"},
		{"html", "text/html; charset=utf-8", html, ""},
		{"xhtml", "application/xhtml+xml", html, ""},
		{"html without type", "", html, ""},
		{"html as octet-stream", "application/octet-stream", html, ""},
		{"html with an odd first tag", "", "<meta charset=utf-8><title>Tide</title><p>High water.", ""},
		{"bad type, html bytes", "text/html;;==", html, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tt.ctype == "" {
					w.Header()["Content-Type"] = nil // no sniffing by net/http
				} else {
					w.Header().Set("Content-Type", tt.ctype)
				}
				io.WriteString(w, tt.body)
				if tt.want != "" && !declaredHTML(tt.ctype) { // HTML types are sniffed once read
					// Real files are longer than the sniffed head.
					w.Write(make([]byte, sniffLen))
					w.(http.Flusher).Flush()
					<-r.Context().Done() // a body that never ends
				}
			})
			c := newClient(ClientOptions{Timeout: 20 * time.Second}, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")})
			resp, err := c.GetPage(t.Context(), srv.URL+"/page", nil)
			if tt.want == "" {
				if err != nil || string(resp.Body) != tt.body {
					t.Fatalf("GetPage: %v, want the page", err)
				}
				return
			}
			var fe *FetchError
			if !errors.Is(err, ErrNotHTML) || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &fe) || fe.Status != 200 || fault.IsTemporary(err) {
				t.Fatalf("GetPage error %v, want a permanent FetchError with status 200 saying %q", err, tt.want)
			}
		})
	}
}

// isTimeout reports whether err is a network or context timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Observe is told of every fetch, a feed's or a page's, failed or not.
func TestClientObserve(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<p>hello</p>")
	})
	var mu sync.Mutex
	var kinds []string
	c := NewClient(ClientOptions{AllowPrivateNetworks: true, Observe: func(kind string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d < 0 {
			t.Errorf("%s fetch took %s", kind, d)
		}
		kinds = append(kinds, kind)
	}})
	c.Get(t.Context(), srv.URL, nil)
	c.GetPage(t.Context(), srv.URL, nil)
	c.GetPage(t.Context(), "ftp://example.com/", nil)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(kinds, []string{"feed", "page", "page"}) {
		t.Errorf("observed %v, want feed, page, page", kinds)
	}
}
