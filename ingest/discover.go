package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Errors of FindFeed.
var (
	// ErrBadFeedURL: the URL given is not an absolute http(s) URL.
	ErrBadFeedURL = errors.New("bad feed URL")
	// ErrNotAFeed: the URL serves neither a feed nor an HTML page that
	// links to one.
	ErrNotAFeed = errors.New("not a feed, and no feed linked from the page")
)

// feedTypes are the <link rel="alternate"> types that name a feed.
var feedTypes = map[string]bool{
	"application/rss+xml":   true,
	"application/atom+xml":  true,
	"application/feed+json": true,
}

// maxDiscovered bounds how many feed links DiscoverFeeds returns.
const maxDiscovered = 20

// DiscoverFeeds returns the feeds an HTML page announces in its head with
// <link rel="alternate" type="application/rss+xml"> (or atom+xml,
// feed+json), resolved against base (the page's address), in page order,
// without duplicates, at most 20. Links that do not resolve to an http(s)
// URL are skipped.
func DiscoverFeeds(base string, page []byte) []string {
	bu, err := url.Parse(base)
	if err != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	z := html.NewTokenizer(bytes.NewReader(page))
	for len(out) < maxDiscovered {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
		default:
			continue
		}
		name, hasAttr := z.TagName()
		switch atom.Lookup(name) {
		case atom.Body:
			return out // feed links live in the head
		case atom.Base:
			if href := attr(z, hasAttr, "href"); href != "" {
				if u, err := bu.Parse(href); err == nil {
					bu = u
				}
			}
			continue
		case atom.Link:
		default:
			continue
		}
		var rel, typ, href string
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			switch string(k) {
			case "rel":
				rel = strings.ToLower(string(v))
			case "type":
				typ = strings.ToLower(strings.TrimSpace(string(v)))
			case "href":
				href = strings.TrimSpace(string(v))
			}
		}
		typ, _, _ = strings.Cut(typ, ";")
		if !feedTypes[strings.TrimSpace(typ)] || !hasWord(rel, "alternate") || href == "" {
			continue
		}
		u, err := bu.Parse(href)
		if err != nil {
			continue
		}
		f, err := normalizeFeedURL(u.String())
		if err != nil || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	return out
}

// attr returns the value of the attribute key of the tag z is at.
func attr(z *html.Tokenizer, more bool, key string) string {
	for more {
		var k, v []byte
		k, v, more = z.TagAttr()
		if string(k) == key {
			return strings.TrimSpace(string(v))
		}
	}
	return ""
}

// hasWord reports whether the space-separated list s holds w.
func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// FindFeed returns the feed at rawURL: rawURL itself when it serves a feed
// (RSS, Atom or JSON Feed), or else the first feed its HTML page links to
// (see DiscoverFeeds) that serves one, with the others the page links to.
// Everything is fetched through c, with its guard against private
// addresses. Errors wrap ErrBadFeedURL, ErrNotAFeed, or are the
// *FetchError of the fetch that failed.
func (c *Client) FindFeed(ctx context.Context, rawURL string) (Feed, []string, error) {
	u, err := normalizeFeedURL(rawURL)
	if err != nil {
		return Feed{}, nil, fmt.Errorf("%w: %w", ErrBadFeedURL, err)
	}
	resp, err := c.getOK(ctx, u)
	if err != nil {
		return Feed{}, nil, err
	}
	if title, ok := parseFeedTitle(resp.Body); ok {
		f, err := NewFeed(u, title)
		return f, nil, err
	}
	links := DiscoverFeeds(resp.FinalURL, resp.Body)
	if len(links) == 0 {
		return Feed{}, nil, fmt.Errorf("%s: %w", u, ErrNotAFeed)
	}
	var errs []error
	for _, link := range links {
		resp, err := c.getOK(ctx, link)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if title, ok := parseFeedTitle(resp.Body); ok {
			f, err := NewFeed(link, title)
			return f, links, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", link, ErrNotAFeed))
	}
	return Feed{}, links, fmt.Errorf("%s links to feeds, and none of them serves one: %w", u, errors.Join(errs...))
}

// getOK fetches u as a feed, answering an error status as an error.
func (c *Client) getOK(ctx context.Context, u string) (*Response, error) {
	resp, err := c.Get(ctx, u, http.Header{"Accept": {feedAccept + ", text/html;q=0.7"}})
	if err == nil {
		err = resp.Err()
	}
	return resp, err
}

// parseFeedTitle reports whether body is a feed, and its title.
func parseFeedTitle(body []byte) (string, bool) {
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(feed.Title), true
}
