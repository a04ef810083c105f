package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/newsflow/newsflow/process"
)

// postgresSearchMigration (version 2) adds full-text search: a tsvector
// generated from the record (title weight A, description B, text D; the
// 'simple' configuration, so every language is indexed alike) with a GIN
// index, a site_name column, and an index for the published order.
// Generated columns fill in for existing rows too.
const postgresSearchMigration = `
	ALTER TABLE articles
		ADD COLUMN site_name text GENERATED ALWAYS AS (record->>'site_name') STORED,
		ADD COLUMN search tsvector GENERATED ALWAYS AS (
			setweight(to_tsvector('simple', coalesce(record->>'title', '')), 'A') ||
			setweight(to_tsvector('simple', coalesce(record->>'description', '')), 'B') ||
			setweight(to_tsvector('simple', coalesce(record->>'text', '')), 'D')) STORED;
	CREATE INDEX articles_search ON articles USING gin (search);
	CREATE INDEX articles_site_name ON articles (lower(site_name));
	CREATE INDEX articles_published_seq ON articles (published DESC NULLS LAST, seq DESC);`

// Search returns a page of the articles that q selects. A bad query is a
// *QueryError naming the parameter.
func (p *Postgres) Search(ctx context.Context, q Query) (Page, error) {
	pl, err := planQuery(q)
	if err != nil {
		return Page{}, err
	}
	b := sqlBuilder{placeholder: func(n int) string { return "$" + strconv.Itoa(n) }}
	from, key := "articles a", "a.published"
	if pl.text != nil {
		from = "articles a, (SELECT " + pl.text.tsquery(b.arg) + " AS tq) q"
		b.conds = append(b.conds, "a.search @@ q.tq")
		if pl.Sort == SortRelevance {
			key = "-ts_rank(a.search, q.tq)::float8"
		}
	}
	published := func(t time.Time) any { return t }
	b.filters(&pl,
		`EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE jsonb_typeof(a.record->'authors') WHEN 'array' THEN a.record->'authors' ELSE '[]' END) j
			WHERE lower(j) = lower({}))`,
		"lower(a.site_name) = lower({})", published)
	inner := "SELECT a.seq AS seq, " + key + " AS key FROM " + from + b.whereSQL()
	outer := sqlBuilder{placeholder: b.placeholder, args: b.args}
	order := outer.keyset(&pl, published, " NULLS LAST")
	query := pageSQL(inner, outer.whereSQL(), order, outer.arg(pl.Limit+1))
	rows, err := p.pool.Query(ctx, query, outer.args...)
	if err != nil {
		return Page{}, classifyPostgres("search", err)
	}
	defer rows.Close()
	var out []searchRow
	for rows.Next() {
		var r searchRow
		var k any
		if err := rows.Scan(&r.seq, &r.record, &k); err != nil {
			return Page{}, classifyPostgres("search", err)
		}
		switch k := k.(type) {
		case float64:
			r.score = k
		case time.Time:
			r.published = &k
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return Page{}, classifyPostgres("search", err)
	}
	return pl.page(out)
}

// NearDuplicates returns the articles in the near-duplicate group of the
// article with the id, other than itself: the one it duplicates and those
// that duplicate it, in the order they were stored.
func (p *Postgres) NearDuplicates(ctx context.Context, id string) ([]process.Article, error) {
	rows, err := p.pool.Query(ctx, `SELECT id, record FROM articles
		WHERE duplicate_of = $1 OR id = (SELECT duplicate_of FROM articles WHERE id = $1) ORDER BY seq`, id)
	if err != nil {
		return nil, classifyPostgres(fmt.Sprintf("near-duplicates of %q", id), err)
	}
	defer rows.Close()
	return collect(rows, classifyPostgres)
}
