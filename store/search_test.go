package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store/storetest"
)

// searchFixture stores a small made-up newsroom and returns it by id.
func searchFixture(t *testing.T, s store) map[string]process.Article {
	t.Helper()
	mk := func(id string, i int, title, text string, change func(a *process.Article)) process.Article {
		a := sampleArticle(id, i)
		a.Title, a.Text, a.Description, a.Authors = title, text, "", []string{"Ola Nordmann"}
		a.Published = baseTime.Add(-time.Duration(i) * time.Hour).Truncate(time.Second)
		if change != nil {
			change(&a)
		}
		return a
	}
	arts := []process.Article{
		mk("bridge", 1, "Footbridge over the river reopens", "The new footbridge opened on Monday after the dry dock repairs.", nil),
		mk("ferry", 2, "Harbour ferry returns", "The ferry left the dry dock and sailed to the island.", func(a *process.Article) {
			a.Authors = []string{"Kari Nordmann"}
		}),
		mk("dock", 3, "Dock workers vote", "Workers at the dock voted; the dry weather helped the count.", func(a *process.Article) {
			a.Feed, a.SiteName = "other-feed", "Other Gazette"
		}),
		mk("choir", 4, "Choir sings at the library", "The choir sang in the library hall.", func(a *process.Article) {
			a.Language = "de"
			a.Published, a.PublishedLocal, a.Modified = time.Time{}, time.Time{}, time.Time{}
		}),
		mk("ferry-copy", 5, "Harbour ferry returns again", "The ferry left the dry dock and sailed to the island.", func(a *process.Article) {
			a.Fingerprint = flip(spread(2), 3) // near "ferry"
		}),
		mk("regatta", 6, "Rowing regatta on the river", "Rowers raced past the footbridge; a ferry waited.", nil),
	}
	mustUpsert(t, s, arts...)
	byID := map[string]process.Article{}
	for _, a := range arts {
		byID[a.ID] = a
	}
	return byID
}

func ids(p Page) []string {
	out := []string{}
	for _, a := range p.Articles {
		out = append(out, a.ID)
	}
	return out
}

func mustSearch(t *testing.T, s store, q Query) Page {
	t.Helper()
	p, err := s.Search(t.Context(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return p
}

func testSearchFilters(t *testing.T, s store) {
	searchFixture(t, s)
	yes, no := true, false
	hoursAgo := func(h int) time.Time { return baseTime.Truncate(time.Second).Add(-time.Duration(h) * time.Hour) }
	tests := []struct {
		name string
		q    Query
		want []string // in order
	}{
		{"everything, newest first, no time last", Query{}, []string{"bridge", "ferry", "dock", "ferry-copy", "regatta", "choir"}},
		{"word", Query{Q: "footbridge", Sort: SortPublished}, []string{"bridge", "regatta"}},
		{"words all", Query{Q: "ferry island", Sort: SortPublished}, []string{"ferry", "ferry-copy"}},
		{"case", Query{Q: "FOOTBRIDGE river", Sort: SortPublished}, []string{"bridge", "regatta"}},
		{"phrase", Query{Q: `"dry dock"`, Sort: SortPublished}, []string{"bridge", "ferry", "ferry-copy"}},
		{"phrase with punctuation", Query{Q: `"dock, voted"`, Sort: SortPublished}, []string{"dock"}},
		{"or", Query{Q: "choir OR rowers", Sort: SortPublished}, []string{"regatta", "choir"}},
		{"not", Query{Q: "ferry -island", Sort: SortPublished}, []string{"regatta"}},
		{"not phrase", Query{Q: `dock -"dry dock"`, Sort: SortPublished}, []string{"dock"}},
		{"operators are words", Query{Q: `ferry AND NOT* title:island`, Sort: SortPublished}, []string{}},
		{"feed", Query{Feed: "other-feed"}, []string{"dock"}},
		{"site ignores case", Query{Site: "other GAZETTE"}, []string{"dock"}},
		{"language", Query{Language: "de"}, []string{"choir"}},
		{"author ignores case", Query{Author: "kari nordmann"}, []string{"ferry"}},
		{"since until", Query{Since: hoursAgo(3), Until: hoursAgo(1)}, []string{"ferry", "dock"}},
		{"has duplicates", Query{HasDuplicates: &yes}, []string{"ferry", "ferry-copy"}},
		{"has no duplicates", Query{HasDuplicates: &no, Q: "ferry"}, []string{"regatta"}},
		{"filters and phrase", Query{Q: `"dry dock"`, Feed: "example-org", Since: hoursAgo(2), Until: hoursAgo(1)}, []string{"ferry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(mustSearch(t, s, tt.q))
			want := tt.want
			if tt.q.Sort == "" && tt.q.Q != "" { // relevance: compare the set
				slices.Sort(got)
				want = slices.Sorted(slices.Values(want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func testSearchRelevance(t *testing.T, s store) {
	searchFixture(t, s)
	// "footbridge" is in bridge's title and text, in regatta's text only.
	if got := ids(mustSearch(t, s, Query{Q: "footbridge"})); !slices.Equal(got, []string{"bridge", "regatta"}) {
		t.Errorf("relevance order = %v, want [bridge regatta]", got)
	}
	if got := ids(mustSearch(t, s, Query{Q: "river"})); !slices.Equal(got, []string{"bridge", "regatta"}) && !slices.Equal(got, []string{"regatta", "bridge"}) {
		t.Errorf("river = %v", got)
	}
}

// testSearchPages pages through results one or two at a time and checks
// that the pages add up to the one-page answer, in order.
func testSearchPages(t *testing.T, s store) {
	searchFixture(t, s)
	for _, q := range []Query{{}, {Q: "the"}, {Q: "the", Sort: SortPublished}, {Q: `"dry dock" OR river`}} {
		all := ids(mustSearch(t, s, q))
		if len(all) < 3 {
			t.Fatalf("%+v: only %v", q, all)
		}
		for _, limit := range []int{1, 2} {
			var got []string
			pq := q
			pq.Limit = limit
			for n := 0; ; n++ {
				if n > len(all) {
					t.Fatalf("%+v: more pages than articles", pq)
				}
				p := mustSearch(t, s, pq)
				got = append(got, ids(p)...)
				if p.Next == "" {
					break
				}
				pq.Cursor = p.Next
			}
			if !slices.Equal(got, all) {
				t.Errorf("%+v limit %d: pages give %v, want %v", q, limit, got, all)
			}
		}
	}
}

func testSearchReindexes(t *testing.T, s store) {
	a := sampleArticle("re", 1)
	a.Text = "The lighthouse keeper retired."
	mustUpsert(t, s, a)
	a.Text, a.ContentHash, a.FetchedAt = "The harbour master retired.", "sha256:v2", a.FetchedAt.Add(time.Hour)
	mustUpsert(t, s, a)
	if got := ids(mustSearch(t, s, Query{Q: "lighthouse"})); len(got) != 0 {
		t.Errorf("old text still found: %v", got)
	}
	if got := ids(mustSearch(t, s, Query{Q: "master"})); !slices.Equal(got, []string{"re"}) {
		t.Errorf("new text: %v, want [re]", got)
	}
}

func testSearchErrors(t *testing.T, s store) {
	searchFixture(t, s)
	first := mustSearch(t, s, Query{Q: "ferry", Limit: 1})
	if first.Next == "" {
		t.Fatal("no next page")
	}
	tests := []struct {
		q     Query
		param string
	}{
		{Query{Sort: "oldest"}, "sort"},
		{Query{Sort: SortRelevance}, "sort"},
		{Query{Limit: -1}, "limit"},
		{Query{Limit: MaxLimit + 1}, "limit"},
		{Query{Since: baseTime, Until: baseTime}, "until"},
		{Query{Q: "-ferry"}, "q"},
		{Query{Q: `"" ---`}, "q"},
		{Query{Cursor: "not-a-cursor"}, "cursor"},
		{Query{Q: "island", Limit: 1, Cursor: first.Next}, "cursor"},
	}
	for _, tt := range tests {
		_, err := s.Search(t.Context(), tt.q)
		qe, ok := IsQueryError(err)
		if !ok || qe.Param != tt.param {
			t.Errorf("Search(%+v) error = %v, want a QueryError on %s", tt.q, err, tt.param)
		}
	}
}

func testNearDuplicatesGroup(t *testing.T, s store) {
	searchFixture(t, s)
	for id, want := range map[string][]string{"ferry": {"ferry-copy"}, "ferry-copy": {"ferry"}, "dock": {}, "absent": {}} {
		got, err := s.NearDuplicates(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, a := range got {
			gotIDs = append(gotIDs, a.ID)
		}
		if !slices.Equal(gotIDs, want) && (len(gotIDs) != 0 || len(want) != 0) {
			t.Errorf("NearDuplicates(%s) = %v, want %v", id, gotIDs, want)
		}
	}
}

func TestParseTextQuery(t *testing.T) {
	tests := []struct {
		q, fts5, err string
	}{
		{q: "ferry", fts5: `("ferry")`},
		{q: `  harbour   "dry dock" `, fts5: `("harbour" AND "dry dock")`},
		{q: `a OR b c`, fts5: `("a") OR ("b" AND "c")`},
		{q: `a -b -"c d"`, fts5: `(("a")) NOT ("b" OR "c d")`},
		{q: `don't "un-closed`, fts5: `("don t" AND "un closed")`},
		{q: `OR x OR`, fts5: `("x")`},
		{q: `"x" AND NOT`, fts5: `("x" AND "AND" AND "NOT")`},
		{q: `café-naïve 東京`, fts5: `("café naïve" AND "東京")`},
		{q: `-a`, err: "only excluded words"},
		{q: `!!! "" -`, err: "no word"},
	}
	for _, tt := range tests {
		tq, err := parseTextQuery(tt.q)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parse(%q) error = %v, want %q", tt.q, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parse(%q): %v", tt.q, err)
			continue
		}
		if got := tq.fts5(); got != tt.fts5 {
			t.Errorf("parse(%q).fts5() = %s, want %s", tt.q, got, tt.fts5)
		}
	}
	many := ""
	for i := range maxTerms + 1 {
		many += fmt.Sprintf("w%d ", i)
	}
	if _, err := parseTextQuery(many); err == nil {
		t.Errorf("%d terms accepted", maxTerms+1)
	}
}

// FuzzSearchQuery checks that any search text either is refused with a
// QueryError or runs on SQLite without an FTS5 syntax error.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range []string{"ferry", `"dry dock" -x OR y`, `a"b`, `-"`, "NEAR(a b)", "a:b", "*", `""""`, "^x"} {
		f.Add(q)
	}
	s := openTestSQLite(f)
	mustUpsertB(f, s, sampleArticle("f", 1))
	f.Fuzz(func(t *testing.T, q string) {
		_, err := s.Search(t.Context(), Query{Q: q})
		if _, ok := IsQueryError(err); err != nil && !ok {
			t.Fatalf("Search(%q): %v", q, err)
		}
	})
}

func mustUpsertB(tb testing.TB, s store, batch ...process.Article) {
	tb.Helper()
	if _, err := s.Upsert(tb.Context(), batch); err != nil {
		tb.Fatal(err)
	}
}

// testUpgrade stores an article in a schema at version 1, as an older
// newsflow left it, then opens the store: the migration indexes it.
// v1 creates the schema at version 1; insert stores a row from the
// parameters id, url, feed, title, published, fetched_at, language,
// content_hash, extractor_version, record.
func testUpgrade(t *testing.T, exec func(sql string, args ...any), open func() store, v1 []string, insert string) {
	a := sampleArticle("old", 1)
	a.Text = "The lighthouse keeper retired after forty winters."
	for _, q := range v1 {
		exec(q)
	}
	exec(insert, a.ID, a.URL, a.Feed, a.Title, sqliteTime(a.Published), sqliteTime(a.FetchedAt), a.Language, a.ContentHash, a.ExtractorVersion, mustJSON(t, a))
	s := open()
	if got := ids(mustSearch(t, s, Query{Q: `"lighthouse keeper"`})); !slices.Equal(got, []string{"old"}) {
		t.Errorf("after the upgrade, search finds %v, want [old]", got)
	}
	if got := ids(mustSearch(t, s, Query{Site: a.SiteName})); !slices.Equal(got, []string{"old"}) {
		t.Errorf("after the upgrade, the site filter finds %v, want [old]", got)
	}
	b := sampleArticle("new", 2)
	b.Text = "A new keeper arrived."
	mustUpsert(t, s, b)
	if got := ids(mustSearch(t, s, Query{Q: "keeper", Sort: SortPublished})); !slices.Equal(got, []string{"old", "new"}) {
		t.Errorf("keeper = %v, want [old new]", got)
	}
}

// rawSQLite opens a new database file with the driver alone, for a test
// to write what an older newsflow would have: its path, the connection
// (close it before opening the store) and an exec that fails the test on
// error.
func rawSQLite(t *testing.T) (path string, db *sql.DB, exec func(q string, args ...any)) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "news.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	exec = func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path, db, exec
}

func TestSQLiteUpgrade(t *testing.T) {
	path, db, exec := rawSQLite(t)
	defer db.Close()
	open := func() store {
		// An older database can be read, not searched, until a writer
		// migrates it.
		ro, err := OpenSQLiteReadOnly(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if _, err := ro.Get(t.Context(), "old"); err != nil {
			t.Errorf("read-only Get of a version-1 database: %v", err)
		}
		if _, err := ro.Search(t.Context(), Query{Q: "keeper"}); err == nil || !strings.Contains(err.Error(), "schema version 1") {
			t.Errorf("read-only Search of a version-1 database: %v, want an error naming the version", err)
		}
		return openSQLiteAt(t, path)
	}
	testUpgrade(t, exec, open, []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
		sqliteSchema[0],
		`INSERT INTO schema_migrations (version, applied_at) VALUES (1, 'then')`,
	}, `INSERT INTO articles (id, seq, url, feed, title, published, fetched_at, first_seen, language, content_hash, extractor_version, record)
		VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10)`)
}

func TestPostgresUpgrade(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	exec := func(q string, args ...any) {
		if _, err := conn.Exec(t.Context(), q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	testUpgrade(t, exec, func() store {
		p, err := OpenPostgres(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}, []string{
		pgSchemaTables,
		postgresSchema[0],
		`INSERT INTO schema_migrations (version) VALUES (1)`,
	}, `INSERT INTO articles (id, url, feed, title, published, fetched_at, first_seen, language, content_hash, extractor_version, record)
		VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $6::timestamptz, $7, $8, $9, $10)`)
}

func openSQLiteAt(t *testing.T, path string) *SQLite {
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSQLiteUpgradeFrom3 opens a database that version 3 wrote, its
// full-text rows written by triggers: after migration 7 the index is built
// again from the articles, in its own file, and follows their updates.
func TestSQLiteUpgradeFrom3(t *testing.T) {
	path, db, exec := rawSQLite(t)
	defer db.Close()
	exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`)
	for v := 1; v <= 3; v++ {
		exec(sqliteSchema[v-1])
		exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 'then')`, v)
	}
	old := sampleArticle("old", 1)
	old.Text = "The lighthouse keeper retired after forty winters."
	exec(`INSERT INTO articles (id, seq, url, feed, title, published, fetched_at, first_seen, language, content_hash, extractor_version, record)
		VALUES (?1, 1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10)`,
		old.ID, old.URL, old.Feed, old.Title, sqliteTime(old.Published), sqliteTime(old.FetchedAt), old.Language,
		old.ContentHash, old.ExtractorVersion, mustJSON(t, old))
	db.Close()

	s := openSQLiteAt(t, path)
	if got := ids(mustSearch(t, s, Query{Q: `"lighthouse keeper"`})); !slices.Equal(got, []string{"old"}) {
		t.Errorf("after the upgrade, search finds %v, want [old]", got)
	}
	// A new version of the old article and a new one.
	edited := old
	edited.Text = "The lighthouse stands empty since the keeper left."
	edited.ContentHash = "sha256:edited"
	edited.FetchedAt = old.FetchedAt.Add(time.Hour)
	b := sampleArticle("new", 2)
	b.Text = "A new keeper arrived at the lighthouse."
	mustUpsert(t, s, edited, b)
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{`"lighthouse keeper"`, []string{}},
		{`"forty winters"`, []string{}},
		{`"stands empty"`, []string{"old"}},
		{`keeper`, []string{"old", "new"}},
	} {
		if got := ids(mustSearch(t, s, Query{Q: tt.q, Sort: SortPublished})); !slices.Equal(got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.q, got, tt.want)
		}
	}
	if _, err := s.index.w.ExecContext(t.Context(), `INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)`); err != nil {
		t.Errorf("the full-text index is not sound: %v", err)
	}
}

// TestSQLiteIndexRebuilt checks that the index file, deleted, is built
// again from the articles, and that the index of another store (one
// ahead of this one) is not taken for this store's.
func TestSQLiteIndexRebuilt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "news.db")
	a, b := sampleArticle("a", 1), sampleArticle("b", 2)
	a.Text, b.Text = "The islands are reached again.", "Snow closed the mountain pass."
	s := openSQLiteAt(t, path)
	mustUpsert(t, s, a, b)
	if got := ids(mustSearch(t, s, Query{Q: "islands"})); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("islands = %v, want [a]", got)
	}
	s.Close()

	if err := os.Remove(path + SQLiteIndexSuffix); err != nil {
		t.Fatal(err)
	}
	s = openSQLiteAt(t, path)
	if got := ids(mustSearch(t, s, Query{Q: "mountain"})); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after the index was deleted, mountain = %v, want [b]", got)
	}
	s.Close()

	// Another store, with one article: the index of the first is ahead of
	// it, so it starts again.
	other := filepath.Join(dir, "other.db")
	o := openSQLiteAt(t, other)
	c := sampleArticle("c", 3)
	c.Text = "The lantern festival drew crowds."
	mustUpsert(t, o, c)
	o.Close()
	if err := os.Remove(other + SQLiteIndexSuffix); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path + SQLiteIndexSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other+SQLiteIndexSuffix, data, 0o600); err != nil {
		t.Fatal(err)
	}
	o = openSQLiteAt(t, other)
	for q, want := range map[string][]string{"lantern": {"c"}, "mountain": {}, "islands": {}} {
		if got := ids(mustSearch(t, o, Query{Q: q})); !slices.Equal(got, want) {
			t.Errorf("with another store's index, %s = %v, want %v", q, got, want)
		}
	}
}

// TestSQLiteIndexSettings checks that the full-text index's settings
// (migration 5) are kept in the database, where a store opened later,
// or by another process, reads them.
func TestSQLiteIndexSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "news.db")
	openSQLiteAt(t, path).Close()
	s := openSQLiteAt(t, path)
	got := map[string]string{}
	rows, err := s.r.QueryContext(t.Context(), `SELECT k, v FROM search.articles_fts_config`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		got[k] = v
	}
	if got["hashsize"] != "16777216" || got["automerge"] != "8" {
		t.Errorf("articles_fts_config = %v, want hashsize 16777216 and automerge 8", got)
	}
}

// TestSQLiteSearchPlans runs the search tests with each way of running a
// search with a text and filters (see sqliteTextSQL): they agree.
func TestSQLiteSearchPlans(t *testing.T) {
	for _, drive := range []bool{false, true} {
		t.Run(fmt.Sprintf("drive=%v", drive), func(t *testing.T) {
			for _, tt := range []struct {
				name string
				fn   func(*testing.T, store)
			}{
				{"Filters", testSearchFilters},
				{"Relevance", testSearchRelevance},
				{"Pages", testSearchPages},
				{"Reindexes", testSearchReindexes},
				{"TextAndFilters", testSearchTextAndFilters},
			} {
				t.Run(tt.name, func(t *testing.T) {
					s := openTestSQLite(t)
					s.drive = &drive
					tt.fn(t, s)
				})
			}
		})
	}
}

// testSearchTextAndFilters checks texts with filters, in both orders and
// a page at a time.
func testSearchTextAndFilters(t *testing.T, s store) {
	searchFixture(t, s)
	hoursAgo := func(h int) time.Time { return baseTime.Add(-time.Duration(h) * time.Hour) }
	yes := true
	for _, tt := range []struct {
		q    Query
		want []string // by relevance, then by publication time
	}{
		{Query{Q: "the", Feed: "example-org"}, nil},
		{Query{Q: "ferry", Language: "en", Since: hoursAgo(5)}, nil},
		{Query{Q: `"dry dock" OR river`, Until: hoursAgo(2)}, nil},
		{Query{Q: "the -island", Site: "example harbour news", Author: "ola nordmann"}, nil},
		{Query{Q: "ferry", HasDuplicates: &yes}, nil},
		{Query{Q: "footbridge", Feed: "example-org", Since: hoursAgo(7)}, []string{"bridge", "regatta"}},
	} {
		for _, sort := range []Sort{SortRelevance, SortPublished} {
			q := tt.q
			q.Sort = sort
			all := ids(mustSearch(t, s, q))
			if tt.want != nil && sort == SortRelevance && !slices.Equal(all, tt.want) {
				t.Errorf("%+v = %v, want %v", q, all, tt.want)
			}
			var got []string
			q.Limit = 1
			for range 10 {
				p := mustSearch(t, s, q)
				got = append(got, ids(p)...)
				if q.Cursor = p.Next; q.Cursor == "" {
					break
				}
			}
			if !slices.Equal(got, all) {
				t.Errorf("%+v: pages give %v, want %v", q, got, all)
			}
		}
	}
}
