// Package metadata reads an article page's metadata: title, authors, dates,
// canonical URL, language, site, section, description, image and tags, from
// JSON-LD, OpenGraph and other meta tags, microdata and the visible page.
//
// Extract walks the parsed page once (it never modifies it) and reads the
// visible text's dates at most once more, so it costs a fraction of
// parsing the page.
//
// Time zones: a date given with an offset or a known zone name keeps that
// offset in its Location, so that its calendar day is the one the page
// shows. A date given without one is taken at its wall time in UTC: the
// offset is unknown, and keeping the wall time keeps the day the page
// shows. A date alone (no time of day) is midnight UTC of that day.
// Dates before 1995 or more than a day after Hints.Now are rejected.
package metadata

import (
	"net/url"
	"strings"
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
	// AMP is the page's AMP version (link rel=amphtml), absolute, as given.
	AMP string
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
	// Now is the time against which dates in the future are rejected;
	// zero means the current time.
	Now time.Time
}

// Extract reads doc's metadata. It does not modify doc.
//
// Each field is taken from the most trusted source that has it: JSON-LD
// first, then OpenGraph and other meta tags, then microdata and the
// visible page. Dates follow dates.go's time zone rule; see findDates for
// their order of trust.
func Extract(doc *goquery.Document, h Hints) Metadata {
	var p page
	if doc != nil {
		p.walk(doc.Nodes...)
	}
	ld := parseJSONLD(p.jsonld)
	var m Metadata

	m.Language = normalizeLang(firstNonEmpty(p.lang, p.meta("og:locale", "content-language", "language", "dc.language", "dcterms.language"), ld.language))
	m.SiteName = collapse(firstNonEmpty(p.meta("og:site_name"), ld.publisher, p.meta("application-name", "al:android:app_name", "al:ios:app_name")))

	base := h.URL
	m.Canonical = canonicalURL(&p, ld, base)
	if base == nil && m.Canonical != "" {
		base, _ = url.Parse(m.Canonical)
	}

	m.AMP = absolute(base, p.amphtml)
	m.Title = pickTitle(&p, ld, m.SiteName, base)
	m.Authors = pickAuthors(&p, ld, m.SiteName)
	m.Section = pickSection(&p, ld)
	m.Description = collapse(firstNonEmpty(p.meta("og:description"), p.meta("description"), p.meta("twitter:description", "dc.description", "dcterms.description"), ld.description))
	m.Image = absolute(base, firstNonEmpty(p.meta("og:image", "og:image:url", "og:image:secure_url"), p.meta("twitter:image", "twitter:image:src"), ld.image, p.meta("image", "thumbnailurl"), p.imageSrc))
	m.Tags = pickTags(&p, ld)

	now := h.Now
	if now.IsZero() {
		now = time.Now()
	}
	urls := []string{m.Canonical, p.meta("og:url")}
	if h.URL != nil {
		urls = append(urls, h.URL.String())
	}
	m.Published, m.Modified = findDates(&p, ld, h, urls, now)
	return m
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// absolute resolves ref against base; it returns "" for anything that is
// not an http(s) URL in the end.
func absolute(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	} else if u.Scheme == "" && strings.HasPrefix(ref, "//") {
		u.Scheme = "https"
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return u.String()
}
