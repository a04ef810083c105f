package ingest

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// FetchFailed reports whether a was published with its page's fetch error
// (see Poller) rather than with the page.
func FetchFailed(a RawArticle) bool {
	return a.FetchError != ""
}

// Refetch fetches the page of a, a raw article published with its fetch
// error, again with c, and returns a with the page in place of the error.
// A page that still cannot be had gives an error (a *FetchError) and a is
// left as it was: retrying a fetch failure means fetching again, not
// sending the same failure round once more.
func Refetch(ctx context.Context, c *Client, a RawArticle) (RawArticle, error) {
	if a.URL == "" {
		return a, fmt.Errorf("refetch item %s: %w", a.ID, ErrNoLink)
	}
	resp, err := c.GetPage(ctx, a.URL, http.Header{"Accept": {pageAccept}})
	if err == nil {
		err = resp.Err()
	}
	if err != nil {
		return a, fmt.Errorf("refetch item %s: %w", a.ID, err)
	}
	a.FinalURL = resp.FinalURL
	a.Status = resp.Status
	a.Header = resp.Header
	a.Body = resp.Body
	a.FetchError = ""
	a.FetchedAt = time.Now().UTC()
	return a, nil
}
