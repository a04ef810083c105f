package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"time"
)

// maxSlug is the longest host slug a feed token carries before its hash.
const maxSlug = 40

// FeedToken returns the short subject token of the feed at feedURL: a slug
// of its host ([a-z0-9-], "www." dropped) followed by a short hash of the
// whole URL, for example "news-example-com-3f9a1c0b". A token never holds
// '.', '*', '>' or white space, so it is safe as one NATS subject token and
// as a key-value key. The same URL always gives the same token.
func FeedToken(feedURL string) string {
	feedURL = strings.TrimSpace(feedURL)
	sum := sha256.Sum256([]byte(feedURL))
	hash := hex.EncodeToString(sum[:4])
	host := ""
	if u, err := url.Parse(feedURL); err == nil {
		host = strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	}
	slug := slugify(host)
	if slug == "" {
		slug = "feed"
	}
	return slug + "-" + hash
}

// slugify keeps ASCII letters and digits of s, lower-cased, and turns every
// other run of characters into one '-'.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() >= maxSlug {
				break
			}
			continue
		}
		dash = true
	}
	return strings.TrimRight(b.String(), "-")
}

// ItemID returns the stable identity of a feed item: a hash of the feed URL
// and the item's GUID, or its link when it has no GUID, or its title and
// publication time when it has neither. An item updated after it was
// published (its updated time later than its published time) is a new
// version of it, with an id of its own, so that a corrected or developing
// story is fetched again; the store keeps one record per article and
// updates it. The id is the Nats-Msg-Id of the item's RawArticle and its
// key in the SeenStore, so the same item seen on a later poll is
// recognised. It is 32 lower-case hex digits.
func ItemID(feedURL string, it FeedItem) string {
	return itemID(feedURL, it, false)
}

// itemID is ItemID; withLink adds the link to a GUID's key, for items of
// one feed that share a GUID but link to different pages.
func itemID(feedURL string, it FeedItem, withLink bool) string {
	var key string
	switch {
	case strings.TrimSpace(it.GUID) != "" && withLink:
		key = "guid+link\x00" + strings.TrimSpace(it.GUID) + "\x00" + strings.TrimSpace(it.Link)
	case strings.TrimSpace(it.GUID) != "":
		key = "guid\x00" + strings.TrimSpace(it.GUID)
	case strings.TrimSpace(it.Link) != "":
		key = "link\x00" + strings.TrimSpace(it.Link)
	default:
		pub := ""
		if !it.Published.IsZero() {
			pub = it.Published.UTC().Format(time.RFC3339Nano)
		}
		key = "title\x00" + strings.TrimSpace(it.Title) + "\x00" + pub
	}
	if !it.Published.IsZero() && it.Updated.After(it.Published) {
		key += "\x00updated\x00" + it.Updated.UTC().Format(time.RFC3339Nano)
	}
	h := sha256.New()
	h.Write([]byte(strings.TrimSpace(feedURL)))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// itemIDs returns the ids of the items of one feed, in order. Items that
// share a GUID but link to different pages are different stories under a
// careless GUID: each keeps its place under an id of its GUID and link
// (see itemID). An item with the same id as an earlier one in the list (the
// same GUID and link, or the same link and no GUID) is a repeat: its id is
// "" and its index is in repeats.
func itemIDs(feedURL string, items []FeedItem) (ids []string, repeats []int) {
	ids = make([]string, len(items))
	links := map[string]map[string]bool{} // plain id -> links of items with a GUID
	for i, it := range items {
		ids[i] = ItemID(feedURL, it)
		if strings.TrimSpace(it.GUID) != "" {
			if links[ids[i]] == nil {
				links[ids[i]] = map[string]bool{}
			}
			links[ids[i]][strings.TrimSpace(it.Link)] = true
		}
	}
	first := map[string]bool{}
	for i, it := range items {
		if len(links[ids[i]]) > 1 {
			ids[i] = itemID(feedURL, it, true)
		}
		if first[ids[i]] {
			ids[i] = ""
			repeats = append(repeats, i)
			continue
		}
		first[ids[i]] = true
	}
	return ids, repeats
}
