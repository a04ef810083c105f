package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/newsflow/newsflow/process"
)

// sqliteSearchMigration (version 2) adds full-text search: an FTS5 table
// over the title, description and text of the records, with external
// content (a view over the JSON records, so the text is stored once), kept
// in sync by triggers; a site_name column; and an index for the published
// order. Existing rows are indexed by the migration.
const sqliteSearchMigration = `
	ALTER TABLE articles ADD COLUMN site_name TEXT GENERATED ALWAYS AS (json_extract(record, '$.site_name')) VIRTUAL;
	CREATE INDEX articles_site_name ON articles (site_name COLLATE NOCASE);
	CREATE INDEX articles_published_seq ON articles (published, seq);
	CREATE VIEW articles_fts_content AS
		SELECT seq, json_extract(record, '$.title') AS title, json_extract(record, '$.description') AS description,
			json_extract(record, '$.text') AS text
		FROM articles;
	CREATE VIRTUAL TABLE articles_fts USING fts5 (title, description, text,
		content = 'articles_fts_content', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 0');
	CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
		INSERT INTO articles_fts (rowid, title, description, text)
		VALUES (new.seq, json_extract(new.record, '$.title'), json_extract(new.record, '$.description'),
			json_extract(new.record, '$.text'));
	END;
	CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
		INSERT INTO articles_fts (articles_fts, rowid, title, description, text)
		VALUES ('delete', old.seq, json_extract(old.record, '$.title'), json_extract(old.record, '$.description'),
			json_extract(old.record, '$.text'));
	END;
	CREATE TRIGGER articles_fts_update AFTER UPDATE OF record ON articles BEGIN
		INSERT INTO articles_fts (articles_fts, rowid, title, description, text)
		VALUES ('delete', old.seq, json_extract(old.record, '$.title'), json_extract(old.record, '$.description'),
			json_extract(old.record, '$.text'));
		INSERT INTO articles_fts (rowid, title, description, text)
		VALUES (new.seq, json_extract(new.record, '$.title'), json_extract(new.record, '$.description'),
			json_extract(new.record, '$.text'));
	END;
	INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');`

// sqliteFastWriteMigration (version 4) makes writes cheaper. Upsert adds
// and replaces the full-text rows itself, with the title, description and
// text it has in hand, instead of triggers that parse them back out of the
// JSON record (the delete trigger stays). Indexes go that no query uses
// (url, content_hash, extractor_version: lookups go by id, alias and
// fingerprint band), that another covers (published, the prefix of
// published_seq), or that cannot narrow a search (language: a handful of
// values).
const sqliteFastWriteMigration = `
	DROP TRIGGER articles_fts_insert;
	DROP TRIGGER articles_fts_update;
	DROP INDEX articles_published;
	DROP INDEX articles_url;
	DROP INDEX articles_content_hash;
	DROP INDEX articles_extractor_version;
	DROP INDEX articles_language;
`

// sqliteIndexTuneMigration (version 5) makes indexing cheaper: FTS5
// gathers up to 16 MB of new postings in memory before writing them as a
// segment (1 MB by default: a batch of the store stage made several), and
// merges segments 8 at a time rather than 4, so that each posting is
// rewritten fewer times as the index grows. Together about 1.13 times the
// rate of Upsert in BenchmarkSearchSQLite's fill; a search reads at most
// twice as many segments of a level.
const sqliteIndexTuneMigration = `
	INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', 16777216);
	INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 8);
`

// sqliteIndexFileMigration (version 7) moves the full-text index out of
// the store's file, into one of its own (see sqliteIndex), built again from
// the articles in the background: every article gets a change number,
// which each write of it renews, so that the index reads what changed.
const sqliteIndexFileMigration = `
	DROP TRIGGER articles_fts_delete;
	DROP TABLE articles_fts;
	DROP VIEW articles_fts_content;
	ALTER TABLE articles ADD COLUMN changed INTEGER;
	UPDATE articles SET changed = seq;
	CREATE INDEX articles_changed ON articles (changed);
`

// Search returns a page of the articles that q selects. A bad query is a
// *QueryError naming the parameter.
func (s *SQLite) Search(ctx context.Context, q Query) (Page, error) {
	p, err := planQuery(q)
	if err != nil {
		return Page{}, err
	}
	if s.version < sqliteIndexFileVersion || !s.searchable {
		return Page{}, fmt.Errorf("store: search sqlite %q: the database is at schema version %d, without the search index %q: open it once with newsflow run or store", s.path, s.version, s.path+SQLiteIndexSuffix)
	}
	if p.text != nil {
		if err := awaitIndex(ctx, s.r, s.index); err != nil {
			return Page{}, err
		}
	}
	b := sqlBuilder{placeholder: func(n int) string { return "?" + strconv.Itoa(n) }}
	published := func(t time.Time) any { return sqliteTime(t) }
	b.filters(&p,
		"EXISTS (SELECT 1 FROM json_each(a.record, '$.authors') j WHERE lower(j.value) = lower({}))",
		"a.site_name = {} COLLATE NOCASE", published)
	var inner string
	switch {
	case p.text == nil:
		inner = "SELECT a.seq AS seq, a.published AS key FROM articles a" + b.whereSQL()
	default:
		match := p.text.fts5()
		drive, err := s.filtersDrive(ctx, match, b)
		if err != nil {
			return Page{}, err
		}
		inner = sqliteTextSQL(&p, &b, match, drive)
	}
	outer := sqlBuilder{placeholder: b.placeholder, args: b.args}
	order := outer.keyset(&p, published, "")
	query := pageSQL(inner, outer.whereSQL(), order, outer.arg(p.Limit+1))
	rows, err := s.r.QueryContext(ctx, query, outer.args...)
	if err != nil {
		return Page{}, classifySQLite("search", err)
	}
	defer rows.Close()
	var out []searchRow
	for rows.Next() {
		var r searchRow
		var k any
		if err := rows.Scan(&r.seq, &r.record, &k); err != nil {
			return Page{}, classifySQLite("search", err)
		}
		switch k := k.(type) {
		case float64:
			r.score = k
		case string:
			t, err := time.Parse(time.RFC3339Nano, k)
			if err != nil {
				return Page{}, fmt.Errorf("store: search: stored published %q: %w", k, err)
			}
			r.published = &t
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return Page{}, classifySQLite("search", err)
	}
	return p.page(out)
}

// sqliteTextSQL returns the inner query of a search with a text: the seq
// and sort key of every article that matches the text and b's filters.
//
// The full-text match drives both forms: SQLite would otherwise run the
// match once per article that the filters keep, and bm25 would count the
// articles holding each phrase anew each time (FTS5 keeps those counts for
// one run of the match only). Without drive, each match is looked up in
// articles to test the filters, and ranked before that test. With drive,
// the seqs that the filters keep are listed first, from their indexes,
// and each match is only tested against that list, so that bm25 and the
// lookups run for the kept matches alone: the faster form when the text
// matches many articles and the filters keep few.
func sqliteTextSQL(p *plan, b *sqlBuilder, match string, drive bool) string {
	bm25 := "bm25(articles_fts, 10.0, 4.0, 1.0)"
	if p.Sort == SortRelevance && len(b.conds) == 0 {
		// Nothing to test in articles: the ranked matches are the list
		// (a common word matches most articles, each looked up for nothing).
		return "SELECT rowid AS seq, " + bm25 + " AS key FROM search.articles_fts WHERE articles_fts MATCH " + b.arg(match)
	}
	if !drive {
		// CROSS JOIN keeps the full-text match as the outer loop.
		key := "a.published"
		if p.Sort == SortRelevance {
			key = "f.score"
		}
		return "SELECT a.seq AS seq, " + key + ` AS key FROM (SELECT rowid AS fts_seq, ` + bm25 + ` AS score
			FROM search.articles_fts WHERE articles_fts MATCH ` + b.arg(match) + `) f CROSS JOIN articles a ON a.seq = f.fts_seq` + b.whereSQL()
	}
	// The unary + keeps the list a test of each match: FTS5 would
	// otherwise run the match once per listed seq.
	kept := "+f.rowid IN (SELECT a.seq FROM articles a" + b.whereSQL() + ")"
	m := b.arg(match)
	if p.Sort == SortRelevance {
		return "SELECT f.rowid AS seq, " + bm25 + " AS key FROM search.articles_fts f WHERE articles_fts MATCH " + m + " AND " + kept
	}
	return "SELECT a.seq AS seq, a.published AS key FROM search.articles_fts f CROSS JOIN articles a ON a.seq = f.rowid WHERE articles_fts MATCH " +
		m + " AND " + kept
}

// Estimates of filtersDrive: the last sqliteSampleRows articles sample
// how often the text matches; filters that keep fewer than
// sqliteDriveRows articles, and fewer than sqliteDriveRatio times the
// matches estimated, make the list that the matches are tested against.
const (
	sqliteSampleRows = 1000
	sqliteDriveRows  = 5000
	sqliteDriveRatio = 5
)

// filtersDrive reports whether the filters should be listed first
// (see sqliteTextSQL): they keep few articles and the text matches many.
// It estimates the matches by counting them among the latest articles
// (FTS5 seeks there by rowid; a count of all the matches of a common word
// would cost as much as the search, and so would fts5vocab's, which reads
// every posting of the word), and counts the filters' articles up to a cap.
func (s *SQLite) filtersDrive(ctx context.Context, match string, filters sqlBuilder) (bool, error) {
	if len(filters.conds) == 0 {
		return false, nil
	}
	if s.drive != nil {
		return *s.drive, nil
	}
	var sampled, last int64
	err := s.r.QueryRowContext(ctx, `SELECT last, (SELECT count(*) FROM search.articles_fts WHERE articles_fts MATCH ?1 AND rowid > last - ?2)
		FROM (SELECT COALESCE(MAX(seq), 0) AS last FROM articles)`, match, sqliteSampleRows).Scan(&last, &sampled)
	if err != nil {
		return false, classifySQLite("search: estimate the matches", err)
	}
	if sampled == 0 {
		return false, nil
	}
	matches := sampled * last / min(last, sqliteSampleRows)
	limit := min(sqliteDriveRows, sqliteDriveRatio*matches)
	var kept int64
	err = s.r.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM articles a"+filters.whereSQL()+" LIMIT "+
		strconv.FormatInt(limit, 10)+")", filters.args...).Scan(&kept)
	if err != nil {
		return false, classifySQLite("search: count the filtered articles", err)
	}
	return kept < limit, nil
}

// NearDuplicates returns the articles in the near-duplicate group of the
// article with the id, other than itself: the one it duplicates and those
// that duplicate it, in the order they were stored.
func (s *SQLite) NearDuplicates(ctx context.Context, id string) ([]process.Article, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, record FROM articles
		WHERE duplicate_of = ?1 OR id = (SELECT duplicate_of FROM articles WHERE id = ?1) ORDER BY seq`, id)
	if err != nil {
		return nil, classifySQLite(fmt.Sprintf("near-duplicates of %q", id), err)
	}
	defer rows.Close()
	return collect(rows, classifySQLite)
}

// collect decodes every (id, record) row.
func collect(rows records, classify func(op string, err error) error) ([]process.Article, error) {
	out := []process.Article{}
	err := eachRecord(rows, classify, func(a process.Article) error {
		out = append(out, a)
		return nil
	})
	return out, err
}
