package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/newsflow/newsflow/ingest/fault"
)

// PageVersion is what the fetchers remember of a published item's page:
// the item's updated time as its feed last gave it, and the page's
// validators and a hash of its body as last fetched.
type PageVersion struct {
	Updated      time.Time `json:"updated,omitzero"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	BodyHash     string    `json:"body_hash,omitempty"`
}

// PageVersions keeps the PageVersion of published items, for all
// replicas. A SeenStore that is also a PageVersions lets a Poller tell an
// item whose feed only moved its updated time (an Atom feed that stamps
// every entry at each build) from an edited page: see Poller.
type PageVersions interface {
	// PageVersion returns the saved version of the item with id; ok is
	// false when it has none.
	PageVersion(ctx context.Context, id string) (v PageVersion, ok bool, err error)
	// MarkSeenVersion marks the item with id seen (see SeenStore.MarkSeen)
	// with its page's version.
	MarkSeenVersion(ctx context.Context, id string, v PageVersion) error
}

// versionOf is the PageVersion of an item's page as fetched.
func versionOf(it FeedItem, header http.Header, body []byte) PageVersion {
	sum := sha256.Sum256(body)
	return PageVersion{Updated: it.Updated, ETag: header.Get("ETag"), LastModified: header.Get("Last-Modified"),
		BodyHash: hex.EncodeToString(sum[:16])}
}

// revisionID is the id of a new version of the item with id, whose page
// body hashes to bodyHash: 32 hex digits, distinct per version, so that
// the bus does not drop it as a repeat of the first publish.
func revisionID(id, bodyHash string) string {
	sum := sha256.Sum256([]byte(id + "\x00page\x00" + bodyHash))
	return hex.EncodeToString(sum[:16])
}

// markSeen marks the published item seen, with its page's version when
// the seen store keeps versions.
func (r *pageRound) markSeen(ctx context.Context, id string, it FeedItem, raw RawArticle) error {
	if pv, ok := r.p.cfg.Seen.(PageVersions); ok && raw.FetchError == "" {
		return pv.MarkSeenVersion(ctx, id, versionOf(it, http.Header(raw.Header), raw.Body))
	}
	return r.p.cfg.Seen.MarkSeen(ctx, id)
}

// revisit looks at an item already published whose feed gives an updated
// time. When the time moved since the page was last fetched, the page is
// fetched again, conditionally (If-None-Match, If-Modified-Since), and
// published again as a new version only if it changed: a 304, or a body
// with the same hash, only records the new time. An item seen before its
// version was kept has its time recorded, without a fetch. It reports
// whether the item was queued.
func (r *pageRound) revisit(pages *pagePool, it FeedItem, id string) bool {
	pv, ok := r.p.cfg.Seen.(PageVersions)
	if !ok || it.Updated.IsZero() || it.Link == "" {
		return false
	}
	bctx, cancel := context.WithTimeout(r.ctx, r.p.cfg.BusTimeout)
	v, found, err := pv.PageVersion(bctx, id)
	cancel()
	switch {
	case err != nil:
		r.log.Warn("cannot look up the page version of a seen item; not revisited this poll", "item", id, "err", err)
		return false
	case found && v.Updated.Equal(it.Updated):
		return false
	case !found:
		// Published before versions were kept: remember the time from
		// now on rather than fetch every such page at once.
		bctx, cancel := context.WithTimeout(r.ctx, r.p.cfg.BusTimeout)
		defer cancel()
		if err := pv.MarkSeenVersion(bctx, id, PageVersion{Updated: it.Updated}); err != nil {
			r.log.Warn("cannot save the page version of a seen item", "item", id, "err", err)
		}
		return false
	}
	r.wg.Add(1)
	pages.submit(hostOf(it.Link), func() {
		defer r.wg.Done()
		if r.revisitPage(pv, it, id, v) {
			r.pending.Add(1)
		}
	})
	return true
}

// revisitPage fetches the page of a seen item again, conditionally on its
// version v, and publishes it if it changed. It reports whether the item
// is left for a later poll.
func (r *pageRound) revisitPage(pv PageVersions, it FeedItem, id string, v PageVersion) (later bool) {
	p, ctx := r.p, r.ctx
	if ctx.Err() != nil {
		return true
	}
	log := r.log.With("item", id, "url", it.Link)
	h := http.Header{"Accept": {pageAccept}}
	if v.ETag != "" {
		h.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		h.Set("If-Modified-Since", v.LastModified)
	}
	resp, err := r.fetch(ctx, it.Link, h)
	if errors.Is(err, errNotSent) {
		return true // the host asked to wait, or its robots.txt is unavailable
	}
	if err == nil {
		err = resp.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return true
		}
		p.stats.pageErrors.Add(1)
		if fault.IsTemporary(err) {
			log.Warn("cannot fetch the page of an updated item; will retry at the next poll", "err", err)
			return true
		}
		// The published version stands; the page is not asked for again
		// until the feed moves its time once more.
		log.Warn("the page of an updated item cannot be fetched; its published version stands", "err", err)
		v.Updated = it.Updated
		return r.saveVersion(pv, id, v)
	}
	next := v
	next.Updated = it.Updated
	if resp.Status == http.StatusNotModified {
		p.stats.pagesNotModified.Add(1)
		log.Debug("updated item's page not modified")
		return r.saveVersion(pv, id, next)
	}
	p.stats.pagesFetched.Add(1)
	next = versionOf(it, resp.Header, resp.Body)
	if next.BodyHash == v.BodyHash {
		p.stats.pagesNotModified.Add(1)
		log.Debug("updated item's page unchanged")
		return r.saveVersion(pv, id, next)
	}
	raw := RawArticle{
		SchemaVersion: RawSchemaVersion,
		ID:            revisionID(id, next.BodyHash),
		Feed:          r.f.Token,
		FeedURL:       r.f.URL,
		Item:          it,
		URL:           it.Link,
		FinalURL:      resp.FinalURL,
		Status:        resp.Status,
		Header:        resp.Header,
		Body:          resp.Body,
		FetchedAt:     p.cfg.Now().UTC(),
	}
	if !r.publish(ctx, raw, "new version of item "+id) {
		return true
	}
	log.Debug("published a new version of an updated item's page", "version", raw.ID)
	return r.saveVersion(pv, id, next)
}

// saveVersion saves the item's page version; a failure stops the round
// (the bus is down) and leaves the item for the next poll.
func (r *pageRound) saveVersion(pv PageVersions, id string, v PageVersion) (later bool) {
	bctx, cancel := context.WithTimeout(r.ctx, r.p.cfg.BusTimeout)
	defer cancel()
	if err := pv.MarkSeenVersion(bctx, id, v); err != nil {
		if errors.Is(err, context.Canceled) && r.ctx.Err() != nil {
			return true
		}
		r.p.stats.stateErrors.Add(1)
		r.fail(fmt.Errorf("save the page version of item %s of %s: %w", id, r.f.URL, err), true)
		return true
	}
	return false
}
