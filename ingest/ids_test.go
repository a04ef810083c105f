package ingest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// validToken reports whether s is made of [a-z0-9-] only and is not empty.
func validToken(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func TestFeedToken(t *testing.T) {
	tests := []struct {
		url        string
		wantPrefix string
	}{
		{"https://www.gazette.example.org/rss.xml", "gazette-example-org-"},
		{"https://News.Example.COM:8443/a.b/c*d>e", "news-example-com-"},
		{"http://[2001:db8::1]/feed", "2001-db8-1-"},
		{"https://xn--bcher-kva.example/feed", "xn-bcher-kva-example-"},
		{"not a url at all", "feed-"},
		{"", "feed-"},
		{"https://" + strings.Repeat("very-long-label.", 10) + "example/feed", "very-long-label-very-long-label-very-lon-"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got := FeedToken(tt.url)
			if !strings.HasPrefix(got, tt.wantPrefix) {
				t.Errorf("FeedToken(%q) = %q, want prefix %q", tt.url, got, tt.wantPrefix)
			}
			if !validToken(got) || strings.ContainsAny(got, ".*> \t") {
				t.Errorf("FeedToken(%q) = %q is not subject-safe", tt.url, got)
			}
			if again := FeedToken(tt.url); again != got {
				t.Errorf("FeedToken not stable: %q then %q", got, again)
			}
			if hash := got[len(tt.wantPrefix):]; len(hash) != 8 {
				t.Errorf("FeedToken(%q) = %q: hash part %q is not 8 hex digits", tt.url, got, hash)
			}
		})
	}
	// Two feeds of one host get different tokens.
	a, b := FeedToken("https://gazette.example.org/rss.xml"), FeedToken("https://gazette.example.org/sport.xml")
	if a == b {
		t.Errorf("two feeds of one host share token %q", a)
	}
}

func TestItemID(t *testing.T) {
	pub := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	const feed = "https://gazette.example.org/rss.xml"
	base := FeedItem{GUID: "tag:gazette,2026:1", Link: "https://gazette.example.org/a", Title: "Tide", Published: pub}
	id := ItemID(feed, base)
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Fatalf("ItemID = %q, want 32 hex digits", id)
	}
	tests := []struct {
		name string
		feed string
		item FeedItem
		same bool
	}{
		{"same item", feed, base, true},
		{"other fields change, GUID decides", feed, FeedItem{GUID: base.GUID, Link: "https://elsewhere.example/", Title: "New title"}, true},
		{"GUID white space", feed, FeedItem{GUID: " " + base.GUID + "\n"}, true},
		{"other GUID", feed, FeedItem{GUID: "tag:gazette,2026:2", Link: base.Link}, false},
		{"other feed", "https://other.example.org/rss.xml", base, false},
		{"link when no GUID is a different key", feed, FeedItem{Link: base.GUID}, false},
		{"updated when published is the same version", feed, FeedItem{GUID: base.GUID, Published: pub, Updated: pub}, true},
		{"updated without a published time is the same version", feed, FeedItem{GUID: base.GUID, Updated: pub.Add(time.Hour)}, true},
		{"updated after published is a new version", feed, FeedItem{GUID: base.GUID, Published: pub, Updated: pub.Add(time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ItemID(tt.feed, tt.item)
			if (got == id) != tt.same {
				t.Errorf("ItemID = %q, base %q, want same=%v", got, id, tt.same)
			}
		})
	}
	// Without a GUID the link decides; without both, title and time.
	l1 := ItemID(feed, FeedItem{Link: "https://gazette.example.org/a", Title: "x"})
	l2 := ItemID(feed, FeedItem{Link: "https://gazette.example.org/a", Title: "y"})
	if l1 != l2 {
		t.Errorf("link-keyed ids differ by title: %q %q", l1, l2)
	}
	t1 := ItemID(feed, FeedItem{Title: "Tide", Published: pub})
	t2 := ItemID(feed, FeedItem{Title: "Tide", Published: pub.In(time.FixedZone("X", 3600))})
	t3 := ItemID(feed, FeedItem{Title: "Tide", Published: pub.Add(time.Second)})
	if t1 != t2 || t1 == t3 {
		t.Errorf("title-keyed ids: same instant %q %q must match, other time %q must differ", t1, t2, t3)
	}
}

func TestItemIDs(t *testing.T) {
	const feed = "https://gazette.example.org/rss"
	a := FeedItem{GUID: "g1", Link: "https://gazette.example.org/a", Title: "Tide"}
	b := FeedItem{GUID: "g1", Link: "https://gazette.example.org/b", Title: "Bridge"}
	c := FeedItem{GUID: "g2", Link: "https://gazette.example.org/c", Title: "Market"}
	noGUID := FeedItem{Link: "https://gazette.example.org/d", Title: "Ferry"}
	tests := []struct {
		name    string
		items   []FeedItem
		ids     []string
		repeats []int
	}{
		{"distinct", []FeedItem{a, c}, []string{ItemID(feed, a), ItemID(feed, c)}, nil},
		{"same GUID, same link: a repeat", []FeedItem{a, c, a}, []string{ItemID(feed, a), ItemID(feed, c), ""}, []int{2}},
		{"same GUID, other links: both kept", []FeedItem{a, b, c},
			[]string{itemID(feed, a, true), itemID(feed, b, true), ItemID(feed, c)}, nil},
		{"both kept, and a repeat", []FeedItem{a, b, a},
			[]string{itemID(feed, a, true), itemID(feed, b, true), ""}, []int{2}},
		{"same link, no GUID: a repeat", []FeedItem{noGUID, noGUID}, []string{ItemID(feed, noGUID), ""}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, repeats := itemIDs(feed, tt.items)
			if !slices.Equal(ids, tt.ids) || !slices.Equal(repeats, tt.repeats) {
				t.Errorf("itemIDs = %q, repeats %v; want %q, %v", ids, repeats, tt.ids, tt.repeats)
			}
		})
	}
	if itemID(feed, a, true) == ItemID(feed, a) || itemID(feed, a, true) == itemID(feed, b, true) {
		t.Error("GUID+link ids do not tell the items apart")
	}
}
