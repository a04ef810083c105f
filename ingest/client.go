package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Defaults of ClientOptions.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultMaxBodyBytes = 16 << 20
	DefaultUserAgent    = "newsflow/1 (+https://github.com/newsflow/newsflow)"
	maxRedirects        = 10
)

// ClientOptions configure a Client.
type ClientOptions struct {
	// AllowPrivateNetworks lets the client fetch from loopback, private and
	// other local addresses. Off by default: feeds come from strangers, and
	// a feed must not be able to make newsflow probe the network it runs in.
	AllowPrivateNetworks bool
	// Timeout bounds one fetch, from connecting to reading the last byte of
	// the body. Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxBodyBytes is the largest body read, of a feed or a page; a larger
	// one is an error. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// UserAgent is sent with every request: feeds, pages and robots.txt.
	// Empty means DefaultUserAgent. See CheckUserAgent.
	UserAgent string
	// Observe, if set, is called after every fetch with what was fetched
	// ("feed" by Get, "page" by GetPage) and how long it took, until the
	// last byte of the body was read or the fetch failed. It must be safe
	// for concurrent use.
	Observe func(kind string, d time.Duration)
}

// maxUserAgent is the longest User-Agent taken.
const maxUserAgent = 256

// ErrUserAgent is wrapped by CheckUserAgent's errors.
var ErrUserAgent = errors.New("invalid User-Agent")

// CheckUserAgent returns an error wrapping ErrUserAgent, saying what is
// wrong, unless ua is a User-Agent a site can read and answer to: printable
// ASCII of at most 256 bytes that starts with a product token and version
// ("newsflow/1.2") and gives an http or https URL where the operator can
// be reached, as in "newsflow/1.2 (+https://example.org/bot)".
func CheckUserAgent(ua string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %q: %s", ErrUserAgent, ua, fmt.Sprintf(format, a...))
	}
	switch {
	case ua == "":
		return bad("empty")
	case len(ua) > maxUserAgent:
		return bad("%d bytes, more than %d", len(ua), maxUserAgent)
	}
	for _, r := range ua {
		if r < ' ' || r > '~' {
			return bad("holds %q: only printable ASCII is allowed", r)
		}
	}
	product, _, _ := strings.Cut(ua, " ")
	name, version, ok := strings.Cut(product, "/")
	if !ok || !isToken(name) || !isToken(version) {
		return bad("does not start with a product and version such as newsflow/1.0")
	}
	for f := range strings.FieldsSeq(ua) {
		f = strings.Trim(f, "()+;,<>")
		if u, err := url.Parse(f); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			return nil
		}
	}
	return bad("gives no contact URL such as (+https://example.org/bot)")
}

// isToken reports whether s is an HTTP token (RFC 9110).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// Client fetches feeds and pages over HTTP(S). It refuses destinations on
// private networks (see ErrPrivateAddress) by checking every address it
// connects to, after DNS resolution, including those of redirects; it does
// not use HTTP proxies from the environment, which would bypass that check.
// A Client is safe for concurrent use.
type Client struct {
	hc   *http.Client
	opts ClientOptions
}

// Response is the outcome of a fetch that got an HTTP response.
type Response struct {
	// URL is the address requested; FinalURL is where redirects ended.
	URL      string
	FinalURL string
	Status   int
	Header   http.Header
	Body     []byte
	// RetryAfter is the delay the server asked for in Retry-After, zero if
	// none (or it was in the past).
	RetryAfter time.Duration
}

// Err returns nil for a 2xx or 304 response, and a *FetchError naming the
// URL and status otherwise.
func (r *Response) Err() error {
	if (r.Status >= 200 && r.Status < 300) || r.Status == http.StatusNotModified {
		return nil
	}
	return &FetchError{URL: r.URL, Status: r.Status, RetryAfter: r.RetryAfter}
}

// NewClient returns a Client with options o (zero fields take defaults).
func NewClient(o ClientOptions) *Client {
	return newClient(o, nil)
}

// newClient is NewClient with exceptions to the private-address rule, for
// tests that serve "public" pages from a loopback address.
func newClient(o ClientOptions, allow []netip.Prefix) *Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	g := &addrGuard{allowPrivate: o.AllowPrivateNetworks, allow: allow}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would connect for us, past the guard
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: o.Timeout,
	}
	hc := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("%w (%d) ending at %s", ErrTooManyRedirects, len(via), req.URL.Redacted())
			}
			if err := checkScheme(req.URL); err != nil {
				return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
			}
			return nil
		},
	}
	return &Client{hc: hc, opts: o}
}

// Options returns the client's options, defaults filled in.
func (c *Client) Options() ClientOptions { return c.opts }

func checkScheme(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q", ErrUnsupportedScheme, u.Scheme)
	}
	return nil
}

// Get fetches rawURL with the extra request headers h (may be nil). It
// returns a Response for any HTTP status; use Response.Err to treat error
// statuses as errors. The error, when no usable response came, is a
// *FetchError.
func (c *Client) Get(ctx context.Context, rawURL string, h http.Header) (*Response, error) {
	return c.get(ctx, rawURL, h, false)
}

// GetPage is Get for an article page: a 2xx response that is not HTML, by
// its Content-Type or, when that is missing or generic, by its first bytes,
// is refused with an error wrapping ErrNotHTML before the rest of its body
// is read.
func (c *Client) GetPage(ctx context.Context, rawURL string, h http.Header) (*Response, error) {
	return c.get(ctx, rawURL, h, true)
}

func (c *Client) get(ctx context.Context, rawURL string, h http.Header, page bool) (*Response, error) {
	if c.opts.Observe != nil {
		kind := "feed"
		if page {
			kind = "page"
		}
		defer func(start time.Time) { c.opts.Observe(kind, time.Since(start)) }(time.Now())
	}
	ferr := func(err error) error { return &FetchError{URL: rawURL, Err: err} }
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, ferr(errors.Unwrap(err))
	}
	if err := checkScheme(u); err != nil {
		return nil, ferr(err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, ferr(err)
	}
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "*/*")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, ferr(unwrapURLError(err))
	}
	defer resp.Body.Close()
	r := &Response{
		URL:        rawURL,
		FinalURL:   resp.Request.URL.String(),
		Status:     resp.StatusCode,
		Header:     resp.Header,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	max := c.opts.MaxBodyBytes
	if resp.ContentLength > max {
		return nil, &FetchError{URL: rawURL, Status: resp.StatusCode,
			Err: fmt.Errorf("%w: %d bytes announced, limit is %d", ErrBodyTooLarge, resp.ContentLength, max)}
	}
	var rd io.Reader = resp.Body
	page = page && resp.StatusCode >= 200 && resp.StatusCode < 300
	ctype := resp.Header.Get("Content-Type")
	if page {
		// A type that decides alone is decided before any byte is read;
		// a missing or generic one by the first bytes.
		var head []byte
		if !declaredHTML(ctype) {
			br := bufio.NewReaderSize(resp.Body, sniffLen)
			head, _ = br.Peek(sniffLen) // a shorter body is sniffed as it is
			rd = br
		}
		if err := checkHTML(ctype, head); err != nil {
			return nil, &FetchError{URL: rawURL, Status: resp.StatusCode, Err: err}
		}
	}
	body, err := io.ReadAll(io.LimitReader(rd, max+1))
	if err != nil {
		return nil, &FetchError{URL: rawURL, Status: resp.StatusCode, Err: fmt.Errorf("read body: %w", err)}
	}
	if int64(len(body)) > max {
		return nil, &FetchError{URL: rawURL, Status: resp.StatusCode,
			Err: fmt.Errorf("%w: more than the limit of %d bytes", ErrBodyTooLarge, max)}
	}
	if page && declaredHTML(ctype) {
		if err := checkHTML(ctype, body[:min(len(body), sniffLen)]); err != nil {
			return nil, &FetchError{URL: rawURL, Status: resp.StatusCode, Err: err}
		}
	}
	r.Body = body
	return r, nil
}

// sniffLen is how much of a page's body is looked at to tell its type,
// as much as http.DetectContentType reads.
const sniffLen = 512

// checkHTML returns an error wrapping ErrNotHTML unless a page with the
// Content-Type ct whose body starts with head can be HTML. A declared HTML
// or XML type is taken unless the bytes are plainly binary (an image sent
// as text/html); a missing or generic type (octet-stream, text/plain) is
// decided by the bytes: any text passes, since HTML that starts with an
// unusual tag sniffs as text/plain; every other type is refused.
func checkHTML(ct string, head []byte) error {
	mt := mediaType(ct)
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	isText := len(head) == 0 || strings.HasPrefix(sniffed, "text/")
	switch {
	case declaredHTML(ct):
		if isText {
			return nil
		}
		return fmt.Errorf("%w: %s (sent as %s)", ErrNotHTML, sniffed, mt)
	case genericTypes[mt]:
		if isText {
			return nil
		}
		return fmt.Errorf("%w: %s", ErrNotHTML, sniffed)
	}
	return fmt.Errorf("%w: %s", ErrNotHTML, mt)
}

// genericTypes are Content-Types that say nothing about a page: its bytes
// decide.
var genericTypes = map[string]bool{
	"": true, "application/octet-stream": true, "binary/octet-stream": true, "text/plain": true,
	"application/unknown": true, "application/x-unknown": true, "unknown/unknown": true,
	"application/binary": true, "application/download": true, "application/force-download": true,
}

// declaredHTML reports whether the Content-Type ct names HTML or XML.
func declaredHTML(ct string) bool {
	switch mediaType(ct) {
	case "text/html", "application/xhtml+xml", "application/xml", "text/xml":
		return true
	}
	return false
}

// mediaType is the lower-case media type of a Content-Type, "" when it
// cannot be read.
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// unwrapURLError drops the *url.Error layer, whose message repeats the URL
// that FetchError already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(7*24*time.Hour/time.Second) {
			n = int64(7 * 24 * time.Hour / time.Second)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// addrGuard decides which addresses the client may connect to.
type addrGuard struct {
	allowPrivate bool
	allow        []netip.Prefix
}

// control is the net.Dialer Control hook: it runs after DNS resolution,
// with the address actually being connected to.
func (g *addrGuard) control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot read address %q", ErrPrivateAddress, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: cannot read address %q", ErrPrivateAddress, address)
	}
	if g.allowPrivate {
		return nil
	}
	ip = ip.WithZone("")
	for _, p := range g.allow {
		if p.Contains(ip.Unmap()) {
			return nil
		}
	}
	if isPrivateAddr(ip) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, ip)
	}
	return nil
}

// ssrfGuard holds the deny lists: the IANA special-purpose registries for
// IPv4 and IPv6 as code.dny.dev/ssrf keeps them, and every IPv6 address
// outside global unicast (2000::/3), which covers IPv4-compatible
// (::127.0.0.1), IPv4-mapped, NAT64 (64:ff9b::/96, 64:ff9b:1::/48),
// discard, link-local, unique-local and multicast addresses; within global
// unicast it denies Teredo and the other IETF assignments (2001::/23), 6to4
// (2002::/16) and the documentation ranges. Ports are the dialer's
// business, not the guard's.
var ssrfGuard = ssrf.New(ssrf.WithAnyPort())

// isPrivateAddr reports whether ip is not a public unicast address. An
// IPv4-mapped IPv6 address is judged as the IPv4 address it maps.
func isPrivateAddr(ip netip.Addr) bool {
	return !ip.IsValid() || ssrfGuard.SafeAddr(ip.WithZone("").Unmap()) != nil
}
