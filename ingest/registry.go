package ingest

import (
	"context"
	"errors"
	"time"
)

// Errors of a feed registry.
var (
	// ErrFeedExists: the registry already has a feed with that URL.
	ErrFeedExists = errors.New("feed already registered")
	// ErrFeedNotFound: the registry has no feed with that token.
	ErrFeedNotFound = errors.New("no such feed")
)

// FeedRecord is a feed's entry in the feed registry, the list of feeds
// every fetcher replica polls.
type FeedRecord struct {
	// Token is FeedToken(URL): the registry key, the feed's subject token
	// and state key.
	Token string `json:"token"`
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	// Paused feeds stay registered but are not polled.
	Paused bool `json:"paused,omitempty"`
	// Added is when the feed was registered.
	Added time.Time `json:"added,omitzero"`
}

// Feed returns the Feed the record describes.
func (r FeedRecord) Feed() Feed { return Feed{URL: r.URL, Title: r.Title, Token: r.Token} }

// FeedWatcher tells a Poller which feeds to poll as the registry changes.
type FeedWatcher interface {
	// WatchFeeds calls update for every feed of the registry, then for
	// each change, until ctx ends: active is false for a feed removed or
	// paused. It returns when ctx ends (nil) or the watch fails.
	WatchFeeds(ctx context.Context, update func(f Feed, active bool)) error
}

// FeedOp is a change to a registered feed.
type FeedOp int

// The changes a registered feed can go through.
const (
	// FeedRemove takes the feed out of the registry (its fetch state stays,
	// so that adding it again resumes where it was).
	FeedRemove FeedOp = iota + 1
	// FeedPause keeps the feed registered but stops polling it.
	FeedPause
	// FeedResume polls a paused feed again.
	FeedResume
)

func (op FeedOp) String() string {
	switch op {
	case FeedRemove:
		return "remove"
	case FeedPause:
		return "pause"
	case FeedResume:
		return "resume"
	}
	return "unknown feed change"
}

// ValidToken reports whether token can be a feed token: one NATS subject
// token and key-value key, 1 to 64 ASCII letters, digits, '-' or '_'.
func ValidToken(token string) bool { return subjectSafe(token) }
