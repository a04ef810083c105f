package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Errors a fetch can wrap. They are never temporary: retrying the same
// request cannot help.
var (
	// ErrPrivateAddress is returned for a destination on a private,
	// loopback, link-local, multicast, unspecified, shared (CGNAT) or
	// unique-local address, unless ClientOptions.AllowPrivateNetworks is
	// set. The check is made on the resolved address when connecting, so it
	// covers redirects and DNS answers that change between lookups.
	ErrPrivateAddress = errors.New("destination is a private or local network address")
	// ErrUnsupportedScheme is returned for a URL, or a redirect, whose
	// scheme is not http or https.
	ErrUnsupportedScheme = errors.New("scheme is not http or https")
	// ErrBodyTooLarge is returned when a response body is larger than
	// ClientOptions.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("response body too large")
	// ErrTooManyRedirects is returned after more than 10 redirects.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrNotHTML is returned for an article page that is not HTML: an
	// image, a PDF, an archive... Its message names the type.
	ErrNotHTML = errors.New("not an HTML page")
	// ErrNoLink is the error of an item that has no link to fetch.
	ErrNoLink = errors.New("feed item has no link")
	// ErrParseFeed wraps an error of the feed parser.
	ErrParseFeed = errors.New("cannot parse feed")
)

// ErrStateConflict is returned by StateStore.SaveFeedState when the state
// changed since the revision given: another fetcher got there first.
var ErrStateConflict = errors.New("feed state changed concurrently")

// FetchError is the error of one HTTP fetch, of a feed or of a page. Its
// Temporary method tells a caller whether trying again later may succeed:
// network errors, timeouts, 408, 425, 429 and 5xx statuses are temporary;
// refused destinations, other 4xx statuses, oversized bodies and feeds that
// do not parse are not.
type FetchError struct {
	// URL is the address requested.
	URL string
	// Status is the HTTP status, zero when no response came.
	Status int
	// RetryAfter is the server's Retry-After, zero when it sent none.
	RetryAfter time.Duration
	// Err is the cause.
	Err error
}

func (e *FetchError) Error() string {
	if e.Status != 0 && e.Err == nil {
		return fmt.Sprintf("fetch %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
	}
	if e.Status >= 300 {
		return fmt.Sprintf("fetch %s: HTTP %d: %v", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("fetch %s: %v", e.URL, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// Temporary reports whether the same fetch may succeed later.
func (e *FetchError) Temporary() bool {
	switch {
	case errors.Is(e.Err, ErrPrivateAddress), errors.Is(e.Err, ErrUnsupportedScheme),
		errors.Is(e.Err, ErrBodyTooLarge), errors.Is(e.Err, ErrTooManyRedirects),
		errors.Is(e.Err, ErrParseFeed), errors.Is(e.Err, ErrNoLink), errors.Is(e.Err, ErrNotHTML):
		return false
	case e.Status >= 400:
		return temporaryStatus(e.Status)
	}
	// No error status: the request or the reading of a good response
	// failed (a reset connection, a timeout mid-body).
	return e.Err != nil // network errors, timeouts, cancellations
}

// temporaryStatus reports whether an HTTP error status may go away.
func temporaryStatus(code int) bool {
	switch {
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return true
	case code >= 500:
		return true
	}
	return false
}

// isTimeout reports whether err is a network or context timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// isPermanent reports whether err, or an error it wraps, has a Permanent
// method that reports true.
func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
