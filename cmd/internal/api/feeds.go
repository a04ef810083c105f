package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// FeedRegistry is the list of feeds the feed endpoints manage
// (*bus.FeedRegistry).
type FeedRegistry interface {
	Feeds(ctx context.Context) ([]ingest.FeedRecord, error)
	AddFeed(ctx context.Context, f ingest.Feed) (ingest.FeedRecord, error)
	ChangeFeed(ctx context.Context, token string, op ingest.FeedOp) (ingest.FeedRecord, error)
}

// FeedStates gives every feed's fetch state (*bus.FeedStateKV).
type FeedStates interface {
	FeedStates(ctx context.Context) (map[string]ingest.FeedState, error)
}

// ParkedMessages lists the parked messages' original subjects and errors
// (*bus.Bus).
type ParkedMessages interface {
	EachParkedError(ctx context.Context, fn func(subject, errText string)) error
}

// FeedCounter counts the stored articles of each feed (*store.SQLite,
// *store.Postgres).
type FeedCounter interface {
	FeedCounts(ctx context.Context) (map[string]store.FeedCount, error)
}

// FeedFinder finds the feed at a feed's or a site's URL (*ingest.Client,
// with its guard against private addresses).
type FeedFinder interface {
	FindFeed(ctx context.Context, rawURL string) (ingest.Feed, []string, error)
}

// Feeds is where the feed endpoints and `newsflow feeds list` find what
// they show. Registry is required; a nil States, Parked or Counts leaves
// its columns empty, and without a Finder a feed is added by its URL as
// given, unchecked.
type Feeds struct {
	Registry FeedRegistry
	States   FeedStates
	Parked   ParkedMessages
	Counts   FeedCounter
	Finder   FeedFinder
}

// FeedHealth is a registered feed and how it fares.
type FeedHealth struct {
	ingest.FeedRecord
	// LastFetch is when the feed was last fetched, LastSuccess when a
	// fetch last succeeded, NextPoll when it is due next.
	LastFetch   time.Time `json:"last_fetch,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	NextPoll    time.Time `json:"next_poll,omitzero"`
	// ErrorStreak counts the polls that failed in a row, LastError is the
	// last one's error.
	ErrorStreak int    `json:"error_streak"`
	LastError   string `json:"last_error,omitempty"`
	// ItemsSeen is how many items the feed's last full answer held;
	// ItemsPublished how many of its items were published, ever.
	ItemsSeen      int   `json:"items_seen"`
	ItemsPublished int64 `json:"items_published"`
	// ArticlesStored is nil when the store was not asked.
	ArticlesStored *int64 `json:"articles_stored"`
	// PagesParked counts the feed's messages parked with their error.
	PagesParked int `json:"pages_parked"`
	// NoTextShare is the share of the feed's pages, stored or parked, in
	// which no article text was found (nil before any).
	NoTextShare *float64 `json:"no_text_share"`
}

// Health returns every registered feed with its health, in token order.
func (f Feeds) Health(ctx context.Context) ([]FeedHealth, error) {
	recs, err := f.Registry.Feeds(ctx)
	if err != nil {
		return nil, err
	}
	states := map[string]ingest.FeedState{}
	if f.States != nil {
		if states, err = f.States.FeedStates(ctx); err != nil {
			return nil, err
		}
	}
	var counts map[string]store.FeedCount
	if f.Counts != nil {
		if counts, err = f.Counts.FeedCounts(ctx); err != nil {
			return nil, err
		}
	}
	type parkedCount struct{ pages, noText int }
	parked := map[string]parkedCount{}
	if f.Parked != nil {
		noContent := process.ErrNoContent.Error()
		err := f.Parked.EachParkedError(ctx, func(subject, errText string) {
			if feed := bus.FeedOfSubject(subject); feed != "" {
				c := parked[feed]
				c.pages++
				if strings.Contains(errText, noContent) {
					c.noText++
				}
				parked[feed] = c
			}
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]FeedHealth, 0, len(recs))
	for _, rec := range recs {
		st := states[rec.Token]
		h := FeedHealth{FeedRecord: rec, LastFetch: st.LastFetch, LastSuccess: st.LastSuccess, NextPoll: st.NextDue,
			ErrorStreak: st.ErrorStreak, LastError: st.LastError, ItemsSeen: st.Items, ItemsPublished: st.ItemsPublished,
			PagesParked: parked[rec.Token].pages}
		if rec.Paused {
			h.NextPoll = time.Time{}
		}
		pages, noText := int64(parked[rec.Token].pages), int64(parked[rec.Token].noText)
		if counts != nil {
			c := counts[rec.Token]
			h.ArticlesStored = &c.Articles
			pages += c.Articles
			noText += c.NoText
		}
		if pages > 0 {
			share := float64(noText) / float64(pages)
			h.NoTextShare = &share
		}
		out = append(out, h)
	}
	return out, nil
}

// Import registers those of feeds not registered yet, and returns them
// and how many were registered already.
func (f Feeds) Import(ctx context.Context, feeds []ingest.Feed) (added []ingest.FeedRecord, existing int, err error) {
	added = []ingest.FeedRecord{}
	for _, feed := range feeds {
		rec, err := f.Registry.AddFeed(ctx, feed)
		switch {
		case err == nil:
			added = append(added, rec)
		case errors.Is(err, ingest.ErrFeedExists):
			existing++
		default:
			return added, existing, fmt.Errorf("after adding %d feeds: %w", len(added), err)
		}
	}
	return added, existing, nil
}

// Add registers the feed at rawURL or, with a Finder, the feed that the
// site's page at rawURL links to, with title if one is given. It returns
// the record and the feeds the site's page links to.
func (f Feeds) Add(ctx context.Context, rawURL, title string) (ingest.FeedRecord, []string, error) {
	var feed ingest.Feed
	var links []string
	var err error
	if f.Finder != nil {
		feed, links, err = f.Finder.FindFeed(ctx, rawURL)
	} else if feed, err = ingest.NewFeed(rawURL, ""); err != nil {
		err = fmt.Errorf("%w: %w", ingest.ErrBadFeedURL, err)
	}
	if err != nil {
		return ingest.FeedRecord{}, nil, err
	}
	if t := strings.TrimSpace(title); t != "" {
		feed.Title = t
	}
	rec, err := f.Registry.AddFeed(ctx, feed)
	return rec, links, err
}

// ExportOPML writes the registered feeds as an OPML document.
func (f Feeds) ExportOPML(ctx context.Context, w io.Writer) error {
	recs, err := f.Registry.Feeds(ctx)
	if err != nil {
		return err
	}
	feeds := make([]ingest.Feed, 0, len(recs))
	for _, rec := range recs {
		feeds = append(feeds, rec.Feed())
	}
	return ingest.WriteOPML(w, "newsflow feeds", time.Now(), feeds)
}

// maxFeedBody bounds the body of a feed request; maxImportBody an OPML
// import's.
const (
	maxFeedBody   = 64 << 10
	maxImportBody = 8 << 20
)

// handleFeeds registers the feed endpoints; they answer 503 until
// ServeFeeds gives them a registry.
func (h *Handler) handleFeeds() {
	h.handle("GET /api/v1/feeds", h.listFeeds)
	h.handle("POST /api/v1/feeds", h.mutating(h.addFeed))
	h.handle("GET /api/v1/feeds/{id}", h.getFeed)
	h.handle("DELETE /api/v1/feeds/{id}", h.mutating(h.changeFeed(ingest.FeedRemove)))
	h.handle("POST /api/v1/feeds/{id}/pause", h.mutating(h.changeFeed(ingest.FeedPause)))
	h.handle("POST /api/v1/feeds/{id}/resume", h.mutating(h.changeFeed(ingest.FeedResume)))
	h.handle("GET /api/v1/feeds.opml", h.exportFeeds)
	h.handle("POST /api/v1/feeds/import", h.mutating(h.importFeeds))
}

// ServeFeeds gives the feed endpoints what they serve. Call it before
// the handler serves.
func (h *Handler) ServeFeeds(f Feeds) { h.feeds = f }

// feedsReady answers 503 and returns false when no registry was given.
func (h *Handler) feedsReady(w http.ResponseWriter) bool {
	if h.feeds.Registry == nil {
		writeError(w, http.StatusServiceUnavailable, "", "this process serves no feed registry")
		return false
	}
	return true
}

func (h *Handler) listFeeds(w http.ResponseWriter, r *http.Request) {
	if !h.feedsReady(w) {
		return
	}
	feeds, err := h.feeds.Health(r.Context())
	if err != nil {
		h.feedError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"feeds": feeds})
}

func (h *Handler) getFeed(w http.ResponseWriter, r *http.Request) {
	if !h.feedsReady(w) {
		return
	}
	feeds, err := h.feeds.Health(r.Context())
	if err != nil {
		h.feedError(w, r, err)
		return
	}
	for _, f := range feeds {
		if f.Token == r.PathValue("id") {
			writeJSON(w, http.StatusOK, f)
			return
		}
	}
	h.feedError(w, r, ingest.ErrFeedNotFound)
}

// addedFeed is the answer to POST /api/v1/feeds.
type addedFeed struct {
	ingest.FeedRecord
	// Discovered lists the feeds the site's page links to, when the URL
	// given was a site's.
	Discovered []string `json:"discovered,omitempty"`
}

func (h *Handler) addFeed(w http.ResponseWriter, r *http.Request) {
	if !h.feedsReady(w) {
		return
	}
	var req struct {
		URL   string `json:"url"`
		Title string `json:"title"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFeedBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "", fmt.Sprintf(`body: want JSON {"url": "https://..."}: %v`, err))
		return
	}
	if strings.TrimSpace(req.URL) == "" {
		writeError(w, http.StatusBadRequest, "url", "url: missing: give the URL of a feed or of a site that links to its feeds")
		return
	}
	rec, links, err := h.feeds.Add(r.Context(), req.URL, req.Title)
	if err != nil {
		h.feedError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/feeds/"+rec.Token)
	writeJSON(w, http.StatusCreated, addedFeed{FeedRecord: rec, Discovered: links})
}

func (h *Handler) changeFeed(op ingest.FeedOp) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.feedsReady(w) {
			return
		}
		rec, err := h.feeds.Registry.ChangeFeed(r.Context(), r.PathValue("id"), op)
		if err != nil {
			h.feedError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, rec)
	}
}

func (h *Handler) exportFeeds(w http.ResponseWriter, r *http.Request) {
	if !h.feedsReady(w) {
		return
	}
	var b bytes.Buffer
	if err := h.feeds.ExportOPML(r.Context(), &b); err != nil {
		h.feedError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/x-opml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="newsflow-feeds.opml"`)
	w.Write(b.Bytes())
}

// importResult is the answer to POST /api/v1/feeds/import.
type importResult struct {
	Added []ingest.FeedRecord `json:"added"`
	// Existing counts the listed feeds that were registered already.
	Existing int `json:"existing"`
}

func (h *Handler) importFeeds(w http.ResponseWriter, r *http.Request) {
	if !h.feedsReady(w) {
		return
	}
	feeds, err := ingest.ReadFeedList(http.MaxBytesReader(w, r.Body, maxImportBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("body: the feed list is over %d bytes", maxImportBody))
			return
		}
		writeError(w, http.StatusBadRequest, "", "body: not an OPML document or feed list: "+err.Error())
		return
	}
	if len(feeds) == 0 {
		writeError(w, http.StatusBadRequest, "", "body: the OPML document lists no feeds (outline elements with an xmlUrl)")
		return
	}
	added, existing, err := h.feeds.Import(r.Context(), feeds)
	if err != nil {
		h.feedError(w, r, err)
		return
	}
	res := importResult{Added: added, Existing: existing}
	writeJSON(w, http.StatusOK, res)
}

// feedError answers a failed feed request with a status naming what was
// wrong: a bad URL 400, an unknown feed 404, a duplicate 409, a URL that
// serves no feed 422, a site that could not be fetched 502, the registry
// or store unreachable 503.
func (h *Handler) feedError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *ingest.FetchError
	switch {
	case errors.Is(err, ingest.ErrBadFeedURL):
		writeError(w, http.StatusBadRequest, "url", "url: "+err.Error())
	case errors.Is(err, ingest.ErrFeedNotFound):
		writeError(w, http.StatusNotFound, "", "no feed with id "+r.PathValue("id"))
	case errors.Is(err, ingest.ErrFeedExists):
		writeError(w, http.StatusConflict, "url", err.Error())
	case errors.Is(err, ingest.ErrNotAFeed):
		writeError(w, http.StatusUnprocessableEntity, "url", "url: "+err.Error())
	case errors.As(err, &fe):
		writeError(w, http.StatusBadGateway, "url", "url: cannot fetch: "+err.Error())
	case r.Context().Err() != nil:
		writeError(w, http.StatusServiceUnavailable, "", "request ended: "+r.Context().Err().Error())
	case fault.IsTemporary(err):
		h.log.Error("api: feed registry failed", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "", "the feed registry or the store is unreachable; retry later")
	default:
		h.log.Error("api: feed request failed", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "", "internal error managing the feeds")
	}
}
