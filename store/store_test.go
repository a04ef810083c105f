package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/process"
)

// store is the contract that testStore checks; both backends implement it.
type store = Store

// firstSeener is implemented by both backends for the tests.
type firstSeener interface {
	firstSeen(ctx context.Context, id string) (time.Time, error)
}

var baseTime = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

// sampleArticle returns a made-up article with every field set, fetched i
// seconds after baseTime, with a fingerprint that differs from those of
// other i in many bits.
func sampleArticle(id string, i int) process.Article {
	cet := time.FixedZone("", 2*60*60)
	published := baseTime.Add(-time.Duration(i+1) * time.Hour).Truncate(time.Second)
	return process.Article{
		SchemaVersion: process.ArticleSchemaVersion,
		ID:            id,
		URL:           "https://news.example.org/story/" + id,
		Link:          "https://news.example.org/story/" + id + "?utm_source=feed",
		Feed:          "example-org",
		FeedURL:       "https://news.example.org/feed.xml",
		Item: &ingest.FeedItem{
			GUID:       "urn:example:" + id,
			Title:      "Harbour ferry " + id + " returns",
			Link:       "https://news.example.org/story/" + id,
			Authors:    []string{"Ola Nordmann"},
			Categories: []string{"Local", "Transport"},
			Published:  published,
			FeedTitle:  "Example Harbour News",
		},
		Title:            "Harbour ferry " + id + " returns after the winter",
		Authors:          []string{"Ola Nordmann", "Kari Nordmann"},
		Language:         "en",
		SiteName:         "Example Harbour News",
		Section:          "Local",
		Description:      "The little ferry is back — with a new engine & a café.",
		Image:            "https://news.example.org/img/" + id + ".jpg",
		Tags:             []string{"ferry", "harbour"},
		Published:        published,
		PublishedLocal:   published.In(cet),
		Modified:         published.Add(30 * time.Minute),
		Dateline:         &Dateline{Place: "PORTVIEW", Sources: []string{"Example Wire"}, Date: published.Format(time.DateOnly)},
		Text:             fmt.Sprintf("The ferry %s left the dry dock on Monday.\n\nPassengers cheered <loudly> as it docked.", id),
		HTML:             fmt.Sprintf(`<p>The ferry %s left the dry dock on Monday.</p><p>Passengers cheered &lt;loudly&gt; as it docked.</p>`, id),
		WordCount:        17,
		ContentHash:      "sha256:" + strings.Repeat(fmt.Sprintf("%02x", i%256), 8),
		Fingerprint:      fmt.Sprintf("%016x", spread(uint64(i))),
		FetchedAt:        baseTime.Add(time.Duration(i) * time.Second),
		ExtractorVersion: process.ExtractorVersion,
	}
}

// Dateline is process.Dateline, shortened for the fixtures.
type Dateline = process.Dateline

// spread maps i to a 64-bit value whose bands all differ from those of
// other small i (a multiplicative hash), so that sample articles are not
// near-duplicates of each other unless a test makes them so.
func spread(i uint64) uint64 {
	x := (i + 1) * 0x9e3779b97f4a7c15
	x ^= x >> 29
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 32
	return x
}

func mustJSON(t *testing.T, a process.Article) string {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatalf("marshal %q: %v", a.ID, err)
	}
	return string(b)
}

func mustUpsert(t *testing.T, s store, batch ...process.Article) UpsertStats {
	t.Helper()
	stats, err := s.Upsert(t.Context(), batch)
	if err != nil {
		t.Fatalf("Upsert: %v", err)
	}
	if n := stats.Inserted + stats.Updated + stats.Unchanged; n != len(batch) {
		t.Fatalf("Upsert stats %+v add up to %d, batch has %d", stats, n, len(batch))
	}
	return stats
}

func mustGet(t *testing.T, s store, id string) process.Article {
	t.Helper()
	a, err := s.Get(t.Context(), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return a
}

func mustCount(t *testing.T, s store, want int) {
	t.Helper()
	n, err := s.Count(t.Context())
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	if n != want {
		t.Fatalf("Count = %d, want %d", n, want)
	}
}

// wantStored checks that Get returns exactly want (compared as JSON, the
// form in which records travel).
func wantStored(t *testing.T, s store, want process.Article) {
	t.Helper()
	if got, w := mustJSON(t, mustGet(t, s, want.ID)), mustJSON(t, want); got != w {
		t.Errorf("Get(%q) =\n%s\nwant\n%s", want.ID, got, w)
	}
}

func dupOf(t *testing.T, s store, id string) string {
	t.Helper()
	return mustGet(t, s, id).DuplicateOf
}

// testStore is the contract test suite that every backend passes. open
// returns a new, empty store, closed when the test ends.
func testStore(t *testing.T, open func(t *testing.T) store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store)
	}{
		{"InsertGet", testInsertGet},
		{"EmptyBatch", testEmptyBatch},
		{"UnchangedOnRepeat", testUnchangedOnRepeat},
		{"UpdateRules", testUpdateRules},
		{"FirstSeenKept", testFirstSeenKept},
		{"Replay", testReplay},
		{"BatchWithInternalDuplicates", testBatchDuplicates},
		{"NearDuplicates", testNearDuplicates},
		{"NearDuplicatesInOneBatch", testNearDuplicatesInBatch},
		{"NearDuplicatesOnUpdate", testNearDuplicatesOnUpdate},
		{"EachOrder", testEachOrder},
		{"EachStopsOnError", testEachStops},
		{"NotFound", testNotFound},
		{"InvalidArticle", testInvalid},
		{"ConcurrentUpserts", testConcurrent},
		{"SearchFilters", testSearchFilters},
		{"SearchRelevance", testSearchRelevance},
		{"SearchPages", testSearchPages},
		{"SearchReindexes", testSearchReindexes},
		{"SearchErrors", testSearchErrors},
		{"NearDuplicatesGroup", testNearDuplicatesGroup},
		{"ArticlesPerHour", testArticlesPerHour},
		{"FeedCounts", testFeedCounts},
		{"ArticleLives", testArticleLives},
		{"ArticleLivesInOneBatch", testArticleLivesInOneBatch},
		{"LongLinkNotAnAlias", testLongLinkNotAnAlias},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, open(t))
		})
	}
}

func testInsertGet(t *testing.T, s store) {
	mustCount(t, s, 0)
	a := sampleArticle("a1", 1)
	b := sampleArticle("b2", 2)
	b.Item, b.Dateline, b.Authors, b.Tags = nil, nil, nil, []string{}
	b.Published, b.PublishedLocal, b.Modified = time.Time{}, time.Time{}, time.Time{}
	b.Fingerprint = ""
	if got := mustUpsert(t, s, a, b); got != (UpsertStats{Inserted: 2}) {
		t.Errorf("stats = %+v, want 2 inserted", got)
	}
	wantStored(t, s, a)
	wantStored(t, s, b)
	mustCount(t, s, 2)
	// The stored time keeps its offset and nanoseconds.
	got := mustGet(t, s, a.ID)
	if !got.PublishedLocal.Equal(a.PublishedLocal) || got.PublishedLocal.Format(time.RFC3339) != a.PublishedLocal.Format(time.RFC3339) {
		t.Errorf("PublishedLocal = %v, want %v", got.PublishedLocal, a.PublishedLocal)
	}
	if !got.FetchedAt.Equal(a.FetchedAt) {
		t.Errorf("FetchedAt = %v, want %v", got.FetchedAt, a.FetchedAt)
	}
}

func testEmptyBatch(t *testing.T, s store) {
	if got := mustUpsert(t, s); got != (UpsertStats{}) {
		t.Errorf("stats = %+v, want zero", got)
	}
	mustCount(t, s, 0)
}

func testUnchangedOnRepeat(t *testing.T, s store) {
	batch := []process.Article{sampleArticle("a", 0), sampleArticle("b", 1), sampleArticle("c", 2)}
	mustUpsert(t, s, batch...)
	for round := range 3 {
		if got := mustUpsert(t, s, batch...); got != (UpsertStats{Unchanged: len(batch)}) {
			t.Errorf("round %d: stats = %+v, want all unchanged", round, got)
		}
	}
	mustCount(t, s, len(batch))
	// Same hash, title and extractor version: nothing is written, even a
	// field outside them.
	redescribed := batch[0]
	redescribed.Description = "A description the hash does not cover"
	redescribed.FetchedAt = redescribed.FetchedAt.Add(time.Hour)
	if got := mustUpsert(t, s, redescribed); got != (UpsertStats{Unchanged: 1}) {
		t.Errorf("redescribed: stats = %+v, want unchanged", got)
	}
	wantStored(t, s, batch[0])
}

func testUpdateRules(t *testing.T, s store) {
	tests := []struct {
		name   string
		change func(a *process.Article)
		want   UpsertStats
	}{
		{"same record", func(a *process.Article) {}, UpsertStats{Unchanged: 1}},
		{"same record, title spaced out", func(a *process.Article) {
			a.Title = "  " + strings.ReplaceAll(a.Title, " ", "\u00a0 ") + "\n"
		}, UpsertStats{Unchanged: 1}},
		{"new title", func(a *process.Article) {
			a.Title = "Changed title"
		}, UpsertStats{Updated: 1, Revised: 1}},
		{"new content hash", func(a *process.Article) {
			a.ContentHash, a.Text = "sha256:feedface", a.Text+"\n\nA correction was added."
		}, UpsertStats{Updated: 1, Revised: 1}},
		{"new extractor version", func(a *process.Article) {
			a.ExtractorVersion = "newsflow-extract/99"
			a.ContentHash, a.Text = "sha256:feedface", a.Text+"\n\nA caption the new rules keep."
		}, UpsertStats{Updated: 1}},
		{"new hash, later fetch", func(a *process.Article) {
			a.ContentHash, a.FetchedAt = "sha256:later", a.FetchedAt.Add(time.Hour)
		}, UpsertStats{Updated: 1, Revised: 1}},
		{"new hash, older fetch (replay)", func(a *process.Article) {
			a.ContentHash, a.FetchedAt = "sha256:older", a.FetchedAt.Add(-time.Hour)
		}, UpsertStats{Unchanged: 1}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := sampleArticle(fmt.Sprintf("u%d", i), i)
			mustUpsert(t, s, orig)
			next := orig
			tt.change(&next)
			if got := mustUpsert(t, s, next); got != tt.want {
				t.Fatalf("stats = %+v, want %+v", got, tt.want)
			}
			if tt.want.Updated == 1 {
				wantStored(t, s, next)
			} else {
				wantStored(t, s, orig)
			}
			revs, err := s.Revisions(t.Context(), orig.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(revs) != tt.want.Revised {
				t.Fatalf("%d revisions, want %d", len(revs), tt.want.Revised)
			}
			if tt.want.Revised == 1 && mustJSON(t, revs[0].Article) != mustJSON(t, orig) {
				t.Errorf("revision 1 = %s, want the first record", mustJSON(t, revs[0].Article))
			}
		})
	}
	mustCount(t, s, len(tests))
}

func testFirstSeenKept(t *testing.T, s store) {
	fs, ok := s.(firstSeener)
	if !ok {
		t.Skip("store does not expose first_seen")
	}
	a := sampleArticle("fs", 3)
	mustUpsert(t, s, a)
	b := a
	b.ContentHash, b.FetchedAt = "sha256:second", a.FetchedAt.Add(48*time.Hour)
	if got := mustUpsert(t, s, b); got.Updated != 1 {
		t.Fatalf("stats = %+v, want updated", got)
	}
	first, err := fs.firstSeen(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Equal(a.FetchedAt.Truncate(time.Microsecond)) && !first.Equal(a.FetchedAt) {
		t.Errorf("first_seen = %v, want the first fetched_at %v", first, a.FetchedAt)
	}
	if got := mustGet(t, s, a.ID).FetchedAt; !got.Equal(b.FetchedAt) {
		t.Errorf("FetchedAt = %v, want the newest %v", got, b.FetchedAt)
	}
}

// testReplay replays a stream holding three versions of an article, as
// redelivery or a stream replay does, and checks that the newest stays.
func testReplay(t *testing.T, s store) {
	v1 := sampleArticle("r", 0)
	v2 := v1
	v2.ContentHash, v2.Text, v2.FetchedAt = "sha256:v2", "Second version.", v1.FetchedAt.Add(time.Hour)
	v3 := v2
	v3.ExtractorVersion, v3.FetchedAt = "newsflow-extract/2", v2.FetchedAt.Add(time.Hour)
	other := sampleArticle("o", 1)
	stream := []process.Article{v1, other, v2, v3}
	var first UpsertStats
	for _, a := range stream {
		first.Add(mustUpsert(t, s, a))
	}
	if want := (UpsertStats{Inserted: 2, Updated: 2, Revised: 1}); first != want {
		t.Errorf("first pass: stats = %+v, want %+v", first, want)
	}
	for round := range 3 {
		// Whole-stream replays, one by one and as one batch.
		var got UpsertStats
		if round == 0 {
			for _, a := range stream {
				got.Add(mustUpsert(t, s, a))
			}
		} else {
			got = mustUpsert(t, s, stream...)
		}
		if want := (UpsertStats{Unchanged: len(stream)}); got != want {
			t.Errorf("replay %d: stats = %+v, want %+v", round, got, want)
		}
		wantStored(t, s, v3)
		mustCount(t, s, 2)
	}
}

func testBatchDuplicates(t *testing.T, s store) {
	a, b := sampleArticle("a", 0), sampleArticle("b", 1)
	a2 := a
	a2.ContentHash, a2.Text, a2.FetchedAt = "sha256:second", "Second version.", a.FetchedAt.Add(time.Minute)
	got := mustUpsert(t, s, a, b, a, a2, b, a2)
	if want := (UpsertStats{Inserted: 2, Updated: 1, Unchanged: 3, Revised: 1}); got != want {
		t.Errorf("stats = %+v, want %+v", got, want)
	}
	mustCount(t, s, 2)
	wantStored(t, s, a2)
	wantStored(t, s, b)
}

// flip returns fp with the given bits flipped.
func flip(fp uint64, bits ...int) string {
	for _, b := range bits {
		fp ^= 1 << b
	}
	return fmt.Sprintf("%016x", fp)
}

func testNearDuplicates(t *testing.T, s store) {
	const fp = uint64(0x0123456789abcdef)
	withFP := func(id string, i int, fingerprint string) process.Article {
		a := sampleArticle(id, i)
		a.Fingerprint = fingerprint
		return a
	}
	orig := withFP("orig", 0, flip(fp))
	mustUpsert(t, s, orig)
	mustUpsert(t, s, withFP("other", 1, fmt.Sprintf("%016x", ^fp)))

	tests := []struct {
		id          string
		fingerprint string
		want        string
	}{
		// Four bits: too far, whether or not a band is shared. (First, as
		// the probes are stored too and the later ones are near them.)
		{"four-bands", flip(fp, 0, 16, 32, 48), ""},
		{"four-in-one-band", flip(fp, 1, 2, 3, 4), ""},
		{"no-fingerprint", "", ""},
		{"same-fp", flip(fp), "orig"},
		{"one-bit", flip(fp, 63), "orig"},
		// Three bits in three bands: only one band is shared.
		{"three-bands", flip(fp, 0, 16, 32), "orig"},
		{"three-in-one-band", flip(fp, 1, 2, 3), "orig"},
		// Near a later probe too: the earliest article wins.
		{"near-two", flip(fp, 1, 2), "orig"},
	}
	for i, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			a := withFP(tt.id, 10+i, tt.fingerprint)
			a.DuplicateOf = "ignored-by-the-store"
			if got := mustUpsert(t, s, a); got.Inserted != 1 {
				t.Fatalf("stats = %+v, want inserted", got)
			}
			if got := dupOf(t, s, tt.id); got != tt.want {
				t.Fatalf("DuplicateOf = %q, want %q", got, tt.want)
			}
			want := a
			want.DuplicateOf = tt.want
			wantStored(t, s, want)
		})
	}
	if got := dupOf(t, s, "orig"); got != "" {
		t.Errorf("the original got DuplicateOf %q", got)
	}
	// Replaying a duplicate keeps it pointing at the original.
	again := withFP("one-bit", 14, flip(fp, 63))
	if got := mustUpsert(t, s, again); got.Unchanged != 1 {
		t.Errorf("replay stats = %+v, want unchanged", got)
	}
	if got := dupOf(t, s, "one-bit"); got != "orig" {
		t.Errorf("after replay DuplicateOf = %q, want orig", got)
	}
}

func testNearDuplicatesInBatch(t *testing.T, s store) {
	first, second, third := sampleArticle("first", 0), sampleArticle("second", 1), sampleArticle("third", 2)
	second.Fingerprint = flip(spread(0), 5, 40)
	third.Fingerprint = flip(spread(0), 5, 40, 20) // near first (3) and second (1)
	mustUpsert(t, s, first, second, third)
	for id, want := range map[string]string{"first": "", "second": "first", "third": "first"} {
		if got := dupOf(t, s, id); got != want {
			t.Errorf("%s: DuplicateOf = %q, want %q", id, got, want)
		}
	}
}

func testNearDuplicatesOnUpdate(t *testing.T, s store) {
	a, b, c := sampleArticle("a", 0), sampleArticle("b", 1), sampleArticle("c", 2)
	mustUpsert(t, s, a, b, c)
	// c is rewritten into a near copy of a: it becomes a duplicate of a.
	c.Fingerprint, c.ContentHash = flip(spread(0), 7), "sha256:c2"
	if got := mustUpsert(t, s, c); got.Updated != 1 {
		t.Fatalf("stats = %+v, want updated", got)
	}
	if got := dupOf(t, s, "c"); got != "a" {
		t.Errorf("c: DuplicateOf = %q, want a", got)
	}
	// An update with the same fingerprint keeps the link.
	c.ContentHash = "sha256:c3"
	mustUpsert(t, s, c)
	if got := dupOf(t, s, "c"); got != "a" {
		t.Errorf("c after same-fingerprint update: DuplicateOf = %q, want a", got)
	}
	// a is rewritten into a near copy of b, stored after it: links only
	// point to earlier articles, so a stays an original (no cycle).
	a.Fingerprint, a.ContentHash = flip(spread(1), 9), "sha256:a2"
	mustUpsert(t, s, a)
	if got := dupOf(t, s, "a"); got != "" {
		t.Errorf("a: DuplicateOf = %q, want none", got)
	}
	// c is rewritten away from a: the link goes.
	c.Fingerprint, c.ContentHash = fmt.Sprintf("%016x", spread(99)), "sha256:c4"
	mustUpsert(t, s, c)
	if got := dupOf(t, s, "c"); got != "" {
		t.Errorf("c after rewrite: DuplicateOf = %q, want none", got)
	}
}

func testEachOrder(t *testing.T, s store) {
	r := rand.New(rand.NewPCG(1, 2))
	var batch []process.Article
	for i := range 40 {
		a := sampleArticle(fmt.Sprintf("e%03d", r.IntN(1000)*100+i), i)
		// Few distinct times, so that ties are broken by id.
		a.FetchedAt = baseTime.Add(time.Duration(r.IntN(5)) * time.Minute)
		batch = append(batch, a)
	}
	for chunk := range slices.Chunk(batch, 7) {
		mustUpsert(t, s, chunk...)
	}
	want := slices.Clone(batch)
	slices.SortFunc(want, func(a, b process.Article) int {
		if c := a.FetchedAt.Compare(b.FetchedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var got []string
	err := s.Each(t.Context(), func(a process.Article) error {
		got = append(got, a.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("Each: %v", err)
	}
	var wantIDs []string
	for _, a := range want {
		wantIDs = append(wantIDs, a.ID)
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("Each order =\n%v\nwant\n%v", got, wantIDs)
	}
	mustCount(t, s, len(batch))
}

func testEachStops(t *testing.T, s store) {
	mustUpsert(t, s, sampleArticle("a", 0), sampleArticle("b", 1), sampleArticle("c", 2))
	stop := errors.New("stop here")
	var seen []string
	err := s.Each(t.Context(), func(a process.Article) error {
		seen = append(seen, a.ID)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("Each error = %v, want %v", err, stop)
	}
	if !slices.Equal(seen, []string{"a", "b"}) {
		t.Errorf("Each saw %v, want [a b]", seen)
	}
}

func testNotFound(t *testing.T, s store) {
	mustUpsert(t, s, sampleArticle("present", 0))
	_, err := s.Get(t.Context(), "absent")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(absent) error = %v, want ErrNotFound", err)
	}
	if fault.IsTemporary(err) || fault.IsPermanent(err) {
		t.Errorf("ErrNotFound classified as temporary or permanent: %v", err)
	}
}

func testInvalid(t *testing.T, s store) {
	tests := []struct {
		name   string
		change func(a *process.Article)
		field  string
	}{
		{"empty id", func(a *process.Article) { a.ID = "" }, "id"},
		{"short fingerprint", func(a *process.Article) { a.Fingerprint = "abc" }, "fingerprint"},
		{"non-hex fingerprint", func(a *process.Article) { a.Fingerprint = "0123456789abcdeg" }, "fingerprint"},
		{"invalid UTF-8", func(a *process.Article) { a.Title = "caf\xe9" }, "title"},
		{"NUL byte", func(a *process.Article) { a.Text = "before\x00after" }, "text"},
		{"nested NUL", func(a *process.Article) { a.Item.Authors = []string{"ok", "bad\x00"} }, "feed_item.authors[1]"},
		{"dateline", func(a *process.Article) { a.Dateline.Sources = []string{"\xff"} }, "dateline.sources[0]"},
		{"year beyond JSON", func(a *process.Article) { a.Published = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "published"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := sampleArticle(fmt.Sprintf("good%d", i), 0)
			bad := sampleArticle(fmt.Sprintf("bad%d", i), 1)
			tt.change(&bad)
			_, err := s.Upsert(t.Context(), []process.Article{good, bad})
			if err == nil {
				t.Fatal("Upsert accepted an invalid article")
			}
			if !fault.IsPermanent(err) || fault.IsTemporary(err) {
				t.Errorf("error %v: permanent %v, temporary %v; want permanent only", err, fault.IsPermanent(err), fault.IsTemporary(err))
			}
			invalid := InvalidArticles(err)
			if len(invalid) != 1 {
				t.Fatalf("InvalidArticles = %v, want one", invalid)
			}
			if got := invalid[0]; got.Index != 1 || got.ID != bad.ID || got.Field != tt.field {
				t.Errorf("invalid article = index %d id %q field %q, want index 1 id %q field %q", got.Index, got.ID, got.Field, bad.ID, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) || (bad.ID != "" && !strings.Contains(err.Error(), bad.ID)) {
				t.Errorf("error %q does not name the id and field", err)
			}
			// Nothing of the batch was written.
			if _, err := s.Get(t.Context(), good.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("valid article of a rejected batch was written (Get error %v)", err)
			}
		})
	}
	mustCount(t, s, 0)

	// Every invalid article of a batch is reported.
	a, b, c := sampleArticle("x", 0), sampleArticle("", 1), sampleArticle("z", 2)
	c.Fingerprint = "zz"
	_, err := s.Upsert(t.Context(), []process.Article{b, a, c})
	var idx []int
	for _, ia := range InvalidArticles(err) {
		idx = append(idx, ia.Index)
	}
	if !slices.Equal(idx, []int{0, 2}) {
		t.Errorf("invalid indexes = %v, want [0 2] (error %v)", idx, err)
	}
}

func testConcurrent(t *testing.T, s store) {
	const workers, ids, rounds = 6, 25, 4
	var batch []process.Article
	for i := range ids {
		batch = append(batch, sampleArticle(fmt.Sprintf("c%02d", i), i))
	}
	var (
		mu    sync.Mutex
		total UpsertStats
		wg    sync.WaitGroup
	)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range rounds {
				mine := slices.Clone(batch)
				r.Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
				stats, err := s.Upsert(context.Background(), mine[:ids/2+r.IntN(ids/2)])
				if err != nil {
					t.Errorf("worker %d: Upsert: %v", w, err)
					return
				}
				mu.Lock()
				total.Add(stats)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	mustCount(t, s, countDistinct(t, s))
	if total.Inserted > ids || total.Updated != 0 {
		t.Errorf("total stats %+v: more inserts than ids (%d) or updates of unchanged records", total, ids)
	}
	n, err := s.Count(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != total.Inserted {
		t.Errorf("Count = %d, but %d inserts were reported", n, total.Inserted)
	}
}

// countDistinct counts the distinct ids that Each returns.
func countDistinct(t *testing.T, s store) int {
	t.Helper()
	seen := map[string]int{}
	if err := s.Each(t.Context(), func(a process.Article) error {
		seen[a.ID]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("id %q stored %d times", id, n)
		}
	}
	return len(seen)
}

// benchmarkUpsert measures batches of 100 new articles.
func benchmarkUpsert(b *testing.B, s store) {
	const size = 100
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		batch := make([]process.Article, size)
		for i := range batch {
			batch[i] = sampleArticle(fmt.Sprintf("bench-%d", n), n)
			batch[i].Fingerprint = fmt.Sprintf("%016x", r.Uint64())
			n++
		}
		b.StartTimer()
		if _, err := s.Upsert(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "articles/s")
}

func testFeedCounts(t *testing.T, s store) {
	got, err := s.FeedCounts(t.Context())
	if err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	a, b, c := sampleArticle("a", 1), sampleArticle("b", 2), sampleArticle("c", 3)
	c.Feed = "other-feed"
	b.Text, b.HTML, b.WordCount = "", "", 0
	mustUpsert(t, s, a, b, c)
	got, err = s.FeedCounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]FeedCount{"example-org": {Articles: 2, NoText: 1}, "other-feed": {Articles: 1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("FeedCounts = %v, want %v", got, want)
	}
}
