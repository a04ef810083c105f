// Package content finds the main text of a news page: the article, all of
// it, and nothing else.
package content

import (
	"net/url"

	"github.com/PuerkitoBio/goquery"
)

// Options are the hints Extract uses beyond the document itself.
type Options struct {
	// BaseURL makes links and image sources in the HTML absolute.
	BaseURL *url.URL
	// Title and Description, when known from the metadata, let Extract drop
	// a headline repeated as a subtitle and a lead repeated before the body.
	Title       string
	Description string
}

// Result is the extracted body.
type Result struct {
	// Paragraphs are the body's blocks in order, each one line of plain text.
	Paragraphs []string
	// HTML is the body as sanitized HTML.
	HTML string
}

// Extract returns the main content of doc. It may modify doc.
func Extract(doc *goquery.Document, opts Options) Result {
	// Placeholder until the real extractor lands: every <p>.
	var r Result
	doc.Find("p").Each(func(_ int, s *goquery.Selection) {
		if t := s.Text(); t != "" {
			r.Paragraphs = append(r.Paragraphs, t)
		}
	})
	return r
}
