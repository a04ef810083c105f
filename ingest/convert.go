package ingest

import (
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
)

// feedItems turns a parsed feed's items into FeedItems, in the feed's
// order. Relative item links are resolved against the feed's site link, or
// else against base (the URL the feed was fetched from).
func feedItems(feed *gofeed.Feed, base string) []FeedItem {
	baseURL, _ := url.Parse(base)
	if site, err := url.Parse(strings.TrimSpace(feed.Link)); err == nil && site.IsAbs() {
		baseURL = site
	}
	title := strings.TrimSpace(feed.Title)
	items := make([]FeedItem, 0, len(feed.Items))
	for _, it := range feed.Items {
		if it == nil {
			continue
		}
		items = append(items, FeedItem{
			GUID:        strings.TrimSpace(it.GUID),
			Title:       strings.TrimSpace(it.Title),
			Link:        resolveLink(baseURL, itemLink(it)),
			Description: it.Description,
			Content:     it.Content,
			Authors:     itemAuthors(it),
			Categories:  cleanStrings(it.Categories),
			Image:       resolveLink(baseURL, itemImage(it)),
			Published:   utc(it.PublishedParsed),
			Updated:     utc(it.UpdatedParsed),
			FeedTitle:   title,
		})
	}
	return items
}

// itemLink is the item's link, or its first alternate link.
func itemLink(it *gofeed.Item) string {
	if l := strings.TrimSpace(it.Link); l != "" {
		return l
	}
	for _, l := range it.Links {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// resolveLink makes ref absolute against base; it returns ref unchanged
// when it cannot.
func resolveLink(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || base == nil {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil || u.IsAbs() {
		return ref
	}
	return base.ResolveReference(u).String()
}

func itemAuthors(it *gofeed.Item) []string {
	var out []string
	add := func(p *gofeed.Person) {
		if p == nil {
			return
		}
		name := strings.TrimSpace(p.Name)
		if name == "" {
			name = strings.TrimSpace(p.Email)
		}
		if name == "" {
			return
		}
		for _, o := range out {
			if o == name {
				return
			}
		}
		out = append(out, name)
	}
	for _, p := range it.Authors {
		add(p)
	}
	if len(out) == 0 {
		add(it.Author) //nolint:staticcheck // older feeds fill only Author
	}
	return out
}

// itemImage is the item's image: its own, or an image enclosure, or a
// Media RSS thumbnail or image content.
func itemImage(it *gofeed.Item) string {
	if it.Image != nil && strings.TrimSpace(it.Image.URL) != "" {
		return strings.TrimSpace(it.Image.URL)
	}
	for _, e := range it.Enclosures {
		if e != nil && strings.HasPrefix(strings.ToLower(e.Type), "image/") && strings.TrimSpace(e.URL) != "" {
			return strings.TrimSpace(e.URL)
		}
	}
	media := it.Extensions["media"]
	for _, name := range []string{"thumbnail", "content"} {
		for _, e := range media[name] {
			u := strings.TrimSpace(e.Attrs["url"])
			if u == "" {
				continue
			}
			if name == "content" {
				if t, m := e.Attrs["type"], e.Attrs["medium"]; !strings.HasPrefix(t, "image/") && m != "image" {
					continue
				}
			}
			return u
		}
	}
	return ""
}

func cleanStrings(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
