// Package ingest watches news feeds and fetches the pages their items point
// to. What it fetches leaves it as a RawArticle, the payload of the
// news.raw.<feed> subjects.
package ingest

import "time"

// RawSchemaVersion is the version of the RawArticle encoding that EncodeRaw
// writes. It is raised when a field changes meaning, so that old streams
// stay decodable on replay (DecodeRaw reads every version up to this one).
//
//   - 1: one JSON object, the body base64-encoded in "body"; a fetch error
//     in the header map under Newsflow-Fetch-Error.
//   - 2: a JSON header line with every field but the body, then the body's
//     raw bytes; the fetch error in "fetch_error".
const RawSchemaVersion = 2

// RawArticle is one fetched article page together with the feed item that
// pointed to it: everything the processor needs, and nothing it has to fetch.
type RawArticle struct {
	SchemaVersion int `json:"schema_version"`
	// ID identifies the feed item (a hash of the feed URL and the item's GUID
	// or link). It is the Nats-Msg-Id of the publish, so that an item seen
	// again is not published again.
	ID string `json:"id"`
	// Feed is the short subject token of the feed (see FeedToken).
	Feed    string   `json:"feed"`
	FeedURL string   `json:"feed_url"`
	Item    FeedItem `json:"item"`
	// URL is the page that was requested; FinalURL is where redirects ended.
	URL      string `json:"url"`
	FinalURL string `json:"final_url,omitempty"`
	// Status and Header are the HTTP response's, as the origin sent them.
	Status int                 `json:"status"`
	Header map[string][]string `json:"header,omitempty"`
	// FetchError is why the page could not be fetched, when ingest gave it
	// up (the item is published all the same, so that the failure is
	// parked where it can be seen and retried). Empty for a fetched page.
	FetchError string `json:"fetch_error,omitempty"`
	// Body is the page as served, undecoded (its charset is the processor's
	// business). EncodeRaw writes it after the JSON header, not in it.
	Body      []byte    `json:"body,omitempty"`
	FetchedAt time.Time `json:"fetched_at"`
}

// FeedItem is what the feed said about an item, kept as the feed gave it.
type FeedItem struct {
	GUID        string    `json:"guid,omitempty"`
	Title       string    `json:"title,omitempty"`
	Link        string    `json:"link,omitempty"`
	Description string    `json:"description,omitempty"`
	Content     string    `json:"content,omitempty"`
	Authors     []string  `json:"authors,omitempty"`
	Categories  []string  `json:"categories,omitempty"`
	Image       string    `json:"image,omitempty"`
	Published   time.Time `json:"published,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
	// FeedTitle is the title of the feed itself.
	FeedTitle string `json:"feed_title,omitempty"`
}
