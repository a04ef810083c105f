// Package process turns raw article pages into clean, normalized Article
// records: it decodes the page to UTF-8, parses it with goquery, extracts the
// metadata (process/metadata) and the main text (process/content).
package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/newsflow/newsflow/ingest"
)

// ArticleSchemaVersion is the version of the Article JSON shape.
const ArticleSchemaVersion = 1

// ExtractorVersion names the extraction rules that made a record. It is
// raised whenever the rules change what they produce, so that records can be
// told apart and re-extracted from the raw stream.
const ExtractorVersion = "newsflow-extract/1"

// Article is the normalized record, one per distinct canonical article URL:
// the payload of news.article.<feed> and the row of the store.
type Article struct {
	SchemaVersion int `json:"schema_version"`
	// ID is stable: derived from the canonical URL alone.
	ID string `json:"id"`
	// URL is the canonical URL, tracking parameters and fragment removed.
	URL string `json:"url"`
	// Link is the URL the page was fetched from.
	Link string `json:"link,omitempty"`
	// Aliases are the other addresses this record was seen under, without
	// tracking parameters or fragment (see metadata.TrimURL), distinct and
	// without URL: the link it was
	// fetched from, where redirects ended, the feed item's link and
	// permalink GUID, the page's AMP version. The store keeps every alias
	// of an article, and finds the article again by any of them.
	Aliases []string         `json:"aliases,omitempty"`
	Feed    string           `json:"feed,omitempty"`
	FeedURL string           `json:"feed_url,omitempty"`
	Item    *ingest.FeedItem `json:"feed_item,omitempty"`

	Title       string   `json:"title"`
	Authors     []string `json:"authors"`
	Language    string   `json:"language,omitempty"`
	SiteName    string   `json:"site_name,omitempty"`
	Section     string   `json:"section,omitempty"`
	Description string   `json:"description,omitempty"`
	Image       string   `json:"image,omitempty"`
	Tags        []string `json:"tags"`

	// Published and Modified are in UTC; PublishedLocal is the same instant
	// as Published with the UTC offset the page gave.
	Published      time.Time `json:"published,omitzero"`
	PublishedLocal time.Time `json:"published_local,omitzero"`
	Modified       time.Time `json:"modified,omitzero"`

	Dateline *Dateline `json:"dateline,omitempty"`

	// Text is the body as plain text, paragraphs separated by a blank line,
	// a list's items one to a line, each starting with "- ", and a data
	// table's rows one to a line, "| cell | cell |".
	Text string `json:"text"`
	// HTML is the body as sanitized HTML (allow-listed tags, absolute links).
	HTML        string `json:"html,omitempty"`
	WordCount   int    `json:"word_count"`
	ContentHash string `json:"content_hash"`
	// Fingerprint is a 64-bit SimHash of the text (hex), for near-duplicate
	// detection; DuplicateOf is the id of the article this one repeats.
	Fingerprint string `json:"fingerprint,omitempty"`
	DuplicateOf string `json:"duplicate_of,omitempty"`

	FetchedAt        time.Time `json:"fetched_at,omitzero"`
	ExtractorVersion string    `json:"extractor_version"`
}

// Dateline is the place, credited sources and date that open a wire story,
// as in "WASHINGTON (UrduPoint News / Sputnik - 22nd July, 2019) ...".
type Dateline struct {
	Place   string   `json:"place"`
	Sources []string `json:"sources,omitempty"`
	Date    string   `json:"date,omitempty"` // YYYY-MM-DD
}

// ErrNewerArticleSchema is wrapped by DecodeArticle's error for a record
// written by a newer processor than this build: not bad, only not readable
// yet, so it waits for an upgrade rather than be parked.
var ErrNewerArticleSchema = errors.New("article schema_version is newer than this build reads")

// EncodeArticle returns the payload of a news.article message: the record
// as JSON, in the current schema (ArticleSchemaVersion).
func EncodeArticle(a Article) ([]byte, error) {
	a.SchemaVersion = ArticleSchemaVersion
	data, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode article %s: %w", a.ID, err)
	}
	return data, nil
}

// DecodeArticle parses the payload of a news.article message. JSON that
// does not decode gives the decoder's error (wrapped, so that a
// *json.UnmarshalTypeError can be found); a record of a newer schema gives
// an error wrapping ErrNewerArticleSchema, with the record as far as this
// build reads it (its ID, say), not to be stored. It does not validate the
// record.
func DecodeArticle(data []byte) (Article, error) {
	var a Article
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("decode article: %w", err)
	}
	if a.SchemaVersion > ArticleSchemaVersion {
		return a, fmt.Errorf("article %s: schema_version %d, this build reads up to %d: %w", a.ID, a.SchemaVersion, ArticleSchemaVersion, ErrNewerArticleSchema)
	}
	return a, nil
}
