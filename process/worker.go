package process

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/newsflow/newsflow/ingest"
)

// Publisher sends a finished record on to the next stage. It returns only
// once the record is durably accepted.
type Publisher interface {
	PublishArticle(ctx context.Context, a Article) error
}

// Worker turns raw article messages into published records.
type Worker struct {
	// OnExtract, if set, is called with the time each extraction took,
	// whether it made a record or not (a payload that does not decode is
	// not extracted). It must be safe for concurrent use.
	OnExtract func(d time.Duration)

	pub Publisher
	// budget bounds the extraction of one page.
	budget time.Duration
}

// DefaultBudget is how long the extraction of one page may take before the
// page is given up as hostile (HTML parsing cannot be interrupted, so such
// a page would otherwise hold a worker for as long as it takes).
const DefaultBudget = 30 * time.Second

// NewWorker returns a Worker that publishes its records to pub.
func NewWorker(pub Publisher) *Worker { return &Worker{pub: pub, budget: DefaultBudget} }

// ErrBudget is returned for a page whose extraction ran out of time.
var ErrBudget = errors.New("extraction took too long")

// Handle extracts the record of one news.raw message (see ingest.DecodeRaw)
// and publishes it. Input that can never make a record (a payload that does
// not decode, an HTTP error page, a page that is not HTML or has no text,
// or over the extraction budget) is a PermanentError; a raw article of a
// newer schema is a DeferredError wrapping ingest.ErrNewerRawSchema (it
// waits for an upgraded processor); a failed publish is returned as it is,
// to be retried.
func (w *Worker) Handle(ctx context.Context, data []byte) error {
	raw, err := ingest.DecodeRaw(data)
	if errors.Is(err, ingest.ErrNewerRawSchema) {
		// Written by a newer fetcher: an upgraded processor will take it.
		return &DeferredError{err}
	}
	if err != nil {
		return &PermanentError{err}
	}
	start := time.Now()
	a, err := w.extract(ctx, raw)
	if w.OnExtract != nil {
		w.OnExtract(time.Since(start))
	}
	if err != nil {
		if ctx.Err() != nil {
			return err // shutting down: the message is retried
		}
		return &PermanentError{err}
	}
	if err := w.pub.PublishArticle(ctx, a); err != nil {
		return fmt.Errorf("article %s (%s): %w", a.ID, a.URL, err)
	}
	return nil
}

// extract runs FromRaw within the worker's budget. A page over budget is
// given up: the worker moves on at once, and the extraction stops at its
// next check of the budget's context.
func (w *Worker) extract(ctx context.Context, raw ingest.RawArticle) (Article, error) {
	bctx, cancel := context.WithTimeout(ctx, w.budget)
	defer cancel()
	type result struct {
		a   Article
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			// This goroutine is not the consume loop's: a panic here would
			// end the process, so it is turned into the page's error.
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("raw article %s: %s: extraction panicked: %v", raw.ID, raw.URL, r)}
			}
		}()
		a, err := FromRaw(bctx, raw)
		done <- result{a, err}
	}()
	select {
	case r := <-done:
		if ctx.Err() == nil && bctx.Err() != nil {
			break // cut short by the budget
		}
		return r.a, r.err
	case <-bctx.Done():
	}
	if err := ctx.Err(); err != nil {
		return Article{}, err
	}
	return Article{}, fmt.Errorf("raw article %s: %s: %w (%s)", raw.ID, raw.URL, ErrBudget, w.budget)
}

// ErrPageFailed is returned for a raw article whose page could not be
// fetched: an HTTP error status, or a fetch error the fetcher recorded.
var ErrPageFailed = errors.New("page was not served")

// FromRaw extracts the record of one raw article, giving up once ctx is
// done.
func FromRaw(ctx context.Context, raw ingest.RawArticle) (Article, error) {
	if raw.FetchError != "" {
		return Article{}, fmt.Errorf("raw article %s: %s: %s: %w", raw.ID, raw.URL, raw.FetchError, ErrPageFailed)
	}
	if raw.Status != 0 && (raw.Status < 200 || raw.Status > 299) {
		return Article{}, fmt.Errorf("raw article %s: %s: HTTP %d %s: %w", raw.ID, raw.URL, raw.Status, http.StatusText(raw.Status), ErrPageFailed)
	}
	pageURL := raw.FinalURL
	if pageURL == "" {
		pageURL = raw.URL
	}
	item := raw.Item
	a, err := ExtractContext(ctx, Page{
		URL:         pageURL,
		Body:        raw.Body,
		ContentType: http.Header(raw.Header).Get("Content-Type"),
		FetchedAt:   raw.FetchedAt,
		Item:        &item,
	})
	if err != nil {
		return Article{}, fmt.Errorf("raw article %s: %w", raw.ID, err)
	}
	a.Link = safeURL(raw.URL, nil)
	a.AddAlias(a.Link)
	a.Feed, a.FeedURL = plainText(raw.Feed, false), safeURL(raw.FeedURL, nil)
	return a, nil
}
