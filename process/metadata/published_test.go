package metadata

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// TestDateTrust checks the order in which date sources are trusted, one
// pair at a time: the first source named wins over the second.
func TestDateTrust(t *testing.T) {
	feed := time.Date(2020, 3, 3, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		html string
		url  string
		feed time.Time
		want string // the published day, "" for none
	}{
		{"JSON-LD over meta", `<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2020-01-01"}</script>
			<meta property="article:published_time" content="2020-02-02">`, "", time.Time{}, "2020-01-01"},
		{"meta over time element", `<meta property="article:published_time" content="2020-02-02"><h1>T</h1><time datetime="2020-04-04">x</time>`, "", time.Time{}, "2020-02-02"},
		{"time pubdate over feed", `<time pubdate datetime="2020-04-04">x</time>`, "", feed, "2020-04-04"},
		{"feed over URL", `<h1>T</h1>`, "https://a.example/2020/05/05/t", feed, "2020-03-03"},
		{"URL over visible text", `<h1>T</h1><p class="date">6 June 2020</p>`, "https://a.example/2020/05/05/t", time.Time{}, "2020-05-05"},
		{"date element after headline over one before", `<p class="date">7 July 2020</p><h1>T</h1><p class="date">8 July 2020</p>`, "", time.Time{}, "2020-07-08"},
		{"visible date after headline over generic date meta", `<meta name="date" content="2020-09-09"><h1>T</h1><span class="date">8 Sep 2020</span>`, "", time.Time{}, "2020-09-08"},
		{"generic date meta over text", `<meta name="date" content="2020-09-09"><h1>T</h1><p>It rained on 1 September 2020.</p>`, "", time.Time{}, "2020-09-09"},
		{"text when nothing else", `<h1>T</h1><p>Posted 2 October 2020</p>`, "", time.Time{}, "2020-10-02"},
		{"future meta rejected", `<meta property="article:published_time" content="2099-01-01"><h1>T</h1><p>3 March 2021</p>`, "", time.Time{}, "2021-03-03"},
		{"before 1995 rejected", `<meta property="article:published_time" content="1990-01-01"><h1>T</h1>`, "", time.Time{}, ""},
		{"no date", `<h1>T</h1><p>Nothing dated here, version 2.0.1.</p>`, "", time.Time{}, ""},
	}
	for _, tt := range tests {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(tt.html))
		if err != nil {
			t.Fatal(err)
		}
		h := Hints{FeedPublished: tt.feed, Now: testNow}
		if tt.url != "" {
			h.URL, _ = url.Parse(tt.url)
		}
		m := Extract(doc, h)
		got := ""
		if !m.Published.IsZero() {
			got = m.Published.Format(time.DateOnly)
		}
		if got != tt.want {
			t.Errorf("%s: published %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestModifiedDate(t *testing.T) {
	tests := []struct {
		name, html string
		want       string
	}{
		{"JSON-LD", `<script type="application/ld+json">{"@type":"Article","datePublished":"2020-01-01T10:00:00+02:00","dateModified":"2020-01-02T11:00:00+02:00"}</script>`, "2020-01-02T11:00:00+02:00"},
		{"meta", `<meta property="article:published_time" content="2020-01-01"><meta property="article:modified_time" content="2020-01-03T08:00:00Z">`, "2020-01-03T08:00:00Z"},
		{"before publication dropped", `<meta property="article:published_time" content="2020-01-05"><meta property="article:modified_time" content="2020-01-03">`, ""},
		{"future dropped", `<meta property="article:published_time" content="2020-01-05"><meta property="og:updated_time" content="2099-01-03">`, ""},
	}
	for _, tt := range tests {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(tt.html))
		if err != nil {
			t.Fatal(err)
		}
		m := Extract(doc, Hints{Now: testNow})
		got := ""
		if !m.Modified.IsZero() {
			got = m.Modified.Format(time.RFC3339)
		}
		if got != tt.want {
			t.Errorf("%s: modified %q, want %q", tt.name, got, tt.want)
		}
	}
}
