package store

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/process"
)

// story returns a made-up article of news.example.org at url, fetched at
// baseTime plus the given minutes, whose fingerprint is fp with the given
// bits flipped.
func story(id, url, title, text string, minutes int, fp uint64, bits ...int) process.Article {
	a := sampleArticle(id, 0)
	a.URL, a.Link, a.Aliases = url, url, nil
	a.Title, a.Text = title, text
	a.ContentHash = fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(text)))
	a.Fingerprint = flip(fp, bits...)
	a.FetchedAt = baseTime.Add(time.Duration(minutes) * time.Minute)
	return a
}

// testArticleLives follows one story across a tracking link, an AMP
// address, a redirect to a new slug and two edits: one row, every address
// an alias, two revisions; other stories stay apart.
func testArticleLives(t *testing.T, s store) {
	const fp = uint64(0x5a5a0f0f3c3c9696)
	const site = "https://news.example.org/2026/ferry-"
	v1 := story("first", site+"returns", "Ferry returns", "The ferry is back in service.", 0, fp)
	v1.Link = site + "returns?utm_source=rss&fbclid=abc"
	mustUpsert(t, s, v1)

	// The AMP page, with no canonical link, has an id of its own: found by
	// its address. The text was corrected: the first revision.
	v2 := story("amp", "https://amp.news.example.org/2026/ferry-returns", "Ferry returns",
		"The ferry is back in service on Monday.", 10, fp, 1)
	if got := mustUpsert(t, s, v2); got != (UpsertStats{Updated: 1, Revised: 1}) {
		t.Fatalf("AMP edit: stats = %+v, want one revised update", got)
	}

	// A new GUID whose link redirects to a new slug: a new id and new
	// addresses, the same site and nearly the same text and title. Edited
	// again: the second revision.
	v3 := story("new-slug", site+"returns-after-winter", "Ferry returns",
		"The ferry is back in service on Monday morning.", 20, fp, 1, 2)
	v3.Link = "https://news.example.org/p/4711"
	v3.Aliases = []string{"https://news.example.org/p/4711?guid=new"}
	if got := mustUpsert(t, s, v3); got != (UpsertStats{Updated: 1, Revised: 1}) {
		t.Fatalf("new slug: stats = %+v, want one revised update", got)
	}

	// The same text under the tracking link again, the old id: unchanged.
	again := v3
	again.ID, again.URL, again.Link, again.Aliases = "first", v1.URL, v1.Link+"&gclid=x", nil
	again.FetchedAt = v3.FetchedAt.Add(time.Minute)
	if got := mustUpsert(t, s, again); got != (UpsertStats{Unchanged: 1}) {
		t.Fatalf("repeat: stats = %+v, want unchanged", got)
	}

	// Other stories: the same site with another title and time, and the
	// same text on another site.
	other := story("other", site+"timetable", "New ferry timetable", "The ferry is back in service on Monday morning.", 30, fp, 1, 2, 3)
	other.Published = v1.Published.Add(24 * time.Hour)
	copied := story("copied", "https://wire.example.net/ferry", "Ferry returns", "The ferry is back in service on Monday morning.", 31, fp, 1, 2)
	if got := mustUpsert(t, s, other, copied); got != (UpsertStats{Inserted: 2}) {
		t.Fatalf("other stories: stats = %+v, want two inserted", got)
	}
	if got := dupOf(t, s, "copied"); got != "first" {
		t.Errorf("copied.DuplicateOf = %q, want first", got)
	}
	mustCount(t, s, 3)

	got := mustGet(t, s, "first")
	if got.Text != v3.Text || got.URL != v3.URL {
		t.Errorf("stored text %q at %s, want the latest %q at %s", got.Text, got.URL, v3.Text, v3.URL)
	}
	for _, id := range []string{"amp", "new-slug"} {
		if _, err := s.Get(t.Context(), id); err == nil {
			t.Errorf("Get(%q) found a row: the story has one, under its first id", id)
		}
	}
	revs, err := s.Revisions(t.Context(), "first")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for i, r := range revs {
		texts = append(texts, r.Article.Text)
		if r.Rev != i+1 {
			t.Errorf("revision %d numbered %d", i+1, r.Rev)
		}
	}
	if want := []string{v1.Text, v2.Text}; !slices.Equal(texts, want) {
		t.Fatalf("revision texts = %q, want %q", texts, want)
	}
	// PostgreSQL keeps microseconds.
	same := func(a, b time.Time) bool { return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond)) }
	if !same(revs[0].SeenFrom, v1.FetchedAt) || !same(revs[0].SeenUntil, v2.FetchedAt) ||
		!same(revs[1].SeenFrom, v2.FetchedAt) || !same(revs[1].SeenUntil, v3.FetchedAt) {
		t.Errorf("revision times %v–%v, %v–%v; want %v–%v–%v", revs[0].SeenFrom, revs[0].SeenUntil,
			revs[1].SeenFrom, revs[1].SeenUntil, v1.FetchedAt, v2.FetchedAt, v3.FetchedAt)
	}
	aliases, err := s.Aliases(t.Context(), "first")
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, a := range aliases {
		urls = append(urls, a.URL)
	}
	// Every address as seen, tracking parameters aside.
	want := []string{site + "returns", "https://amp.news.example.org/2026/ferry-returns", site + "returns-after-winter",
		"https://news.example.org/p/4711", "https://news.example.org/p/4711?guid=new"}
	if !slices.Equal(urls, want) {
		t.Errorf("aliases = %q, want %q", urls, want)
	}
	if revs, _ := s.Revisions(t.Context(), "other"); len(revs) != 0 {
		t.Errorf("other has %d revisions, want none", len(revs))
	}
	if none, err := s.Aliases(t.Context(), "no-such-id"); err != nil || len(none) != 0 {
		t.Errorf("Aliases of an unknown id = %v, %v; want none", none, err)
	}
}

// testArticleLivesInOneBatch sends the three addresses of a story in one
// batch: they are applied in order, as if one at a time.
func testArticleLivesInOneBatch(t *testing.T, s store) {
	const fp = uint64(0x0f0f0f0f12345678)
	v1 := story("b1", "https://news.example.org/a/bridge", "Bridge opens", "The bridge opens.", 0, fp)
	v2 := story("b2", "https://m.news.example.org/a/bridge/", "Bridge opens", "The bridge opens today.", 1, fp, 5)
	v3 := story("b3", "https://news.example.org/a/bridge-opens", "Bridge opens at last", "The bridge opens today at noon.", 2, fp, 5, 6)
	v3.Published = v1.Published
	if got := mustUpsert(t, s, v1, v2, v3); got != (UpsertStats{Inserted: 1, Updated: 2, Revised: 2}) {
		t.Fatalf("stats = %+v, want one insert and two revised updates", got)
	}
	mustCount(t, s, 1)
	revs, err := s.Revisions(t.Context(), "b1")
	if err != nil || len(revs) != 2 || revs[1].Article.Title != "Bridge opens" {
		t.Fatalf("revisions = %+v, %v; want two, the second titled as before", revs, err)
	}
	if got := mustGet(t, s, "b1").Title; got != v3.Title {
		t.Errorf("title = %q, want %q", got, v3.Title)
	}
}

// testLongLinkNotAnAlias: a link too long to index is not kept as an
// alias, and does not stop its record.
func testLongLinkNotAnAlias(t *testing.T, s store) {
	a := story("long-link", "https://news.example.org/a/short", "Short", "A short story.", 0, 0x1234)
	a.Link = "https://news.example.org/a/short?q=" + strings.Repeat("x", 3000)
	if got := mustUpsert(t, s, a); got != (UpsertStats{Inserted: 1}) {
		t.Fatalf("stats = %+v", got)
	}
	aliases, err := s.Aliases(t.Context(), a.ID)
	if err != nil || len(aliases) != 1 || aliases[0].URL != a.URL {
		t.Errorf("aliases = %+v, %v; want the URL only", aliases, err)
	}
}
