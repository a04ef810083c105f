package process

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/newsflow/newsflow/ingest"
)

// Publisher sends a finished record on to the next stage. It returns only
// once the record is durably accepted.
type Publisher interface {
	PublishArticle(ctx context.Context, a Article) error
}

// Worker turns raw article messages into published records.
type Worker struct {
	pub Publisher
}

// NewWorker returns a Worker that publishes its records to pub.
func NewWorker(pub Publisher) *Worker { return &Worker{pub: pub} }

// Handle extracts the record of one news.raw message (an ingest.RawArticle
// as JSON) and publishes it. Input that can never make a record (not JSON,
// a newer schema, an HTTP error page, a page with no text) is a
// PermanentError; a failed publish is returned as it is, to be retried.
func (w *Worker) Handle(ctx context.Context, data []byte) error {
	var raw ingest.RawArticle
	if err := json.Unmarshal(data, &raw); err != nil {
		return &PermanentError{fmt.Errorf("decode raw article: %w", err)}
	}
	a, err := FromRaw(raw)
	if err != nil {
		return &PermanentError{err}
	}
	if err := w.pub.PublishArticle(ctx, a); err != nil {
		return fmt.Errorf("article %s (%s): %w", a.ID, a.URL, err)
	}
	return nil
}

// ErrPageFailed is returned for a raw article whose page could not be
// fetched: an HTTP error status, or a fetch error the fetcher recorded.
var ErrPageFailed = errors.New("page was not served")

// FromRaw extracts the record of one raw article.
func FromRaw(raw ingest.RawArticle) (Article, error) {
	if raw.SchemaVersion > ingest.RawSchemaVersion {
		return Article{}, fmt.Errorf("raw article %s: schema_version %d is newer than this processor's %d", raw.ID, raw.SchemaVersion, ingest.RawSchemaVersion)
	}
	if msg := http.Header(raw.Header).Get(ingest.FetchErrorHeader); msg != "" {
		return Article{}, fmt.Errorf("raw article %s: %s: %s: %w", raw.ID, raw.URL, msg, ErrPageFailed)
	}
	if raw.Status != 0 && (raw.Status < 200 || raw.Status > 299) {
		return Article{}, fmt.Errorf("raw article %s: %s: HTTP %d %s: %w", raw.ID, raw.URL, raw.Status, http.StatusText(raw.Status), ErrPageFailed)
	}
	pageURL := raw.FinalURL
	if pageURL == "" {
		pageURL = raw.URL
	}
	item := raw.Item
	a, err := Extract(Page{
		URL:         pageURL,
		Body:        raw.Body,
		ContentType: http.Header(raw.Header).Get("Content-Type"),
		FetchedAt:   raw.FetchedAt,
		Item:        &item,
	})
	if err != nil {
		return Article{}, fmt.Errorf("raw article %s: %w", raw.ID, err)
	}
	a.Link = raw.URL
	a.Feed, a.FeedURL = raw.Feed, raw.FeedURL
	return a, nil
}
