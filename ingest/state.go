package ingest

import (
	"context"
	"time"
)

// Publisher sends a RawArticle on its way: the bus publishes it on subject
// news.raw.<a.Feed> with Nats-Msg-Id a.ID, and returns once the stream has
// stored it.
type Publisher interface {
	PublishRaw(ctx context.Context, a RawArticle) error
}

// StateStore keeps each feed's FeedState where all fetcher replicas see it,
// with compare-and-set: a save succeeds only if the state is still at the
// revision it was loaded at. Keys are feed tokens.
type StateStore interface {
	// LoadFeedState returns the state of the feed with token and its
	// revision; a feed with no state yet gives the zero FeedState and
	// revision 0.
	LoadFeedState(ctx context.Context, token string) (FeedState, uint64, error)
	// SaveFeedState stores s if the feed's state is still at revision rev
	// (0: it has no state yet) and returns the new revision. It returns an
	// error wrapping ErrStateConflict if the state moved on.
	SaveFeedState(ctx context.Context, token string, s FeedState, rev uint64) (uint64, error)
}

// SeenStore remembers the ids (see ItemID) of the feed items already
// published, for all replicas.
type SeenStore interface {
	// Seen reports whether the item with id was marked seen.
	Seen(ctx context.Context, id string) (bool, error)
	// MarkSeen records that the item with id was published.
	MarkSeen(ctx context.Context, id string) error
}

// FeedState is what newsflow remembers about a feed between polls.
type FeedState struct {
	// URL is the feed's address, for people reading the bucket.
	URL string `json:"url,omitempty"`
	// ETag and LastModified are the validators of the last feed response
	// whose items were all handled; they are sent back as If-None-Match and
	// If-Modified-Since.
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// NextDue is when the feed should be polled next.
	NextDue time.Time `json:"next_due,omitzero"`
	// LastFetch is when the feed was last fetched, successfully or not;
	// LastSuccess when a fetch last succeeded (200 or 304).
	LastFetch   time.Time `json:"last_fetch,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// ErrorStreak counts the polls that failed in a row; LastError is the
	// error of the last one ("" after a success).
	ErrorStreak int    `json:"error_streak,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	// Items is how many items the feed's last full answer (not a 304)
	// held; ItemsPublished counts the items published from it, ever.
	Items          int   `json:"items,omitempty"`
	ItemsPublished int64 `json:"items_published,omitempty"`
	// ClaimedBy names the replica polling the feed now, until ClaimedUntil;
	// other replicas leave the feed alone until then.
	ClaimedBy    string    `json:"claimed_by,omitempty"`
	ClaimedUntil time.Time `json:"claimed_until,omitzero"`
	// PageFailures counts the failed fetches of the pages of items not yet
	// published, by item id. An item is dropped from it once published or
	// once it is no longer in the feed.
	PageFailures map[string]int `json:"page_failures,omitempty"`
	// GivenUp holds the ids of items published with their page's failure
	// (parked by the processor). They are not marked seen, as if they had
	// succeeded: they are skipped only while they stay in the feed, and a
	// `parked retry` fetches their page again.
	GivenUp map[string]bool `json:"given_up,omitempty"`
	// Cadence is what the feed has shown of how often it changes; its
	// next poll is chosen from it (see NextPoll).
	Cadence Cadence `json:"cadence,omitzero"`
}

// due returns when the feed may be polled next: at NextDue, but not while
// another replica's claim lasts.
func (s FeedState) due() time.Time {
	if s.ClaimedUntil.After(s.NextDue) {
		return s.ClaimedUntil
	}
	return s.NextDue
}
