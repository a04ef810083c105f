package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/newsflow/newsflow/process"
)

// Sort is the order of search results.
type Sort string

const (
	// SortRelevance puts the best matches of Query.Q first (SQLite: bm25
	// with title, description and text weighted 10:4:1; PostgreSQL:
	// ts_rank with weights A, B, D). It needs a Q.
	SortRelevance Sort = "relevance"
	// SortPublished puts the newest publication time first, articles
	// without one last.
	SortPublished Sort = "published"
)

// Search limits: a Query with Limit 0 gets DefaultLimit articles a page.
const (
	DefaultLimit = 20
	MaxLimit     = 500
)

// Query selects, orders and pages stored articles. Zero fields do not
// filter.
type Query struct {
	// Q is a full-text search over title, description and text (see
	// parseTextQuery): words, "a phrase", OR, -excluded. Words are matched
	// whole and ignoring case, but not accents, without stemming (the
	// 'simple' configuration on PostgreSQL), so that every language is
	// searched alike.
	Q string
	// Feed, Language: equal to the article's. Site: the site name,
	// ignoring case. Author: one of the authors, ignoring case.
	Feed, Site, Language, Author string
	// Since and Until bound the publication time: Since <= published <
	// Until. Articles without a publication time are left out when either
	// is set.
	Since, Until time.Time
	// HasDuplicates, when set, keeps only articles that are (true) or are
	// not (false) part of a near-duplicate group: they duplicate another, or
	// another duplicates them.
	HasDuplicates *bool
	// Sort defaults to SortRelevance with a Q, SortPublished without.
	Sort Sort
	// Cursor is Page.Next of the previous page of the same query.
	Cursor string
	// Limit is the page size, 1 to MaxLimit; 0 means DefaultLimit.
	Limit int
}

// Page is one page of search results.
type Page struct {
	Articles []process.Article
	// Next is the Cursor of the next page, "" after the last one.
	Next string
}

// QueryError is a search query that cannot run as it is; Param names the
// Query field (as the API parameter: q, feed, since, sort, cursor, limit...).
type QueryError struct {
	Param string
	Err   error
}

func (e *QueryError) Error() string { return fmt.Sprintf("store: search: %s: %v", e.Param, e.Err) }

func (e *QueryError) Unwrap() error { return e.Err }

// plan is a validated Query.
type plan struct {
	Query
	text   *textQuery
	after  *cursor
	digest string
}

// cursor is where a page ended: the sort key and seq of its last article.
// It also holds a digest of the query, so that a cursor is not used with
// another query.
type cursor struct {
	Digest    string     `json:"h"`
	Score     float64    `json:"r,omitempty"`
	Published *time.Time `json:"p,omitempty"`
	Seq       int64      `json:"n"`
}

func planQuery(q Query) (plan, error) {
	p := plan{Query: q}
	bad := func(param, format string, args ...any) (plan, error) {
		return plan{}, &QueryError{Param: param, Err: fmt.Errorf(format, args...)}
	}
	if strings.TrimSpace(q.Q) != "" {
		tq, err := parseTextQuery(q.Q)
		if err != nil {
			return bad("q", "%w", err)
		}
		p.text = &tq
	}
	switch q.Sort {
	case "":
		p.Sort = SortPublished
		if p.text != nil {
			p.Sort = SortRelevance
		}
	case SortRelevance:
		if p.text == nil {
			return bad("sort", "relevance needs a search text (q)")
		}
	case SortPublished:
	default:
		return bad("sort", "%q is not relevance or published", q.Sort)
	}
	switch {
	case q.Limit == 0:
		p.Limit = DefaultLimit
	case q.Limit < 0 || q.Limit > MaxLimit:
		return bad("limit", "%d is not between 1 and %d", q.Limit, MaxLimit)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return bad("until", "%s is not after since %s", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	h := fnv.New64a()
	key, _ := json.Marshal([]any{p.Q, p.Feed, p.Site, p.Language, p.Author, p.Since, p.Until, p.HasDuplicates, p.Sort})
	h.Write(key)
	p.digest = fmt.Sprintf("%016x", h.Sum64())
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		var c cursor
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil || c.Seq <= 0 {
			return bad("cursor", "not a cursor this store gave")
		}
		if c.Digest != p.digest {
			return bad("cursor", "the cursor belongs to another query: repeat every parameter of the first page")
		}
		p.after = &c
	}
	return p, nil
}

// next returns the cursor after the row with seq and sort key.
func (p *plan) next(seq int64, score float64, published *time.Time) string {
	c := cursor{Digest: p.digest, Seq: seq}
	if p.Sort == SortRelevance {
		c.Score = score
	} else if published != nil {
		t := published.UTC()
		c.Published = &t
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sqlBuilder collects a backend's SQL conditions and their parameters.
type sqlBuilder struct {
	conds       []string
	args        []any
	placeholder func(n int) string // of the n-th parameter, from 1
}

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return b.placeholder(len(b.args))
}

// where adds a condition, each {} in it a parameter of args in turn.
func (b *sqlBuilder) where(cond string, args ...any) {
	for _, a := range args {
		cond = strings.Replace(cond, "{}", b.arg(a), 1)
	}
	b.conds = append(b.conds, cond)
}

func (b *sqlBuilder) whereSQL() string {
	if len(b.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.conds, " AND ")
}

// filters adds the conditions both backends share; author and site are the
// backend's conditions on a parameter {}, published its form of a time.
func (b *sqlBuilder) filters(p *plan, author, site string, published func(time.Time) any) {
	if p.Feed != "" {
		b.where("a.feed = {}", p.Feed)
	}
	if p.Language != "" {
		b.where("a.language = {}", p.Language)
	}
	if p.Site != "" {
		b.where(site, p.Site)
	}
	if p.Author != "" {
		b.where(author, p.Author)
	}
	if !p.Since.IsZero() {
		b.where("a.published >= {}", published(p.Since))
	}
	if !p.Until.IsZero() {
		b.where("a.published < {}", published(p.Until))
	}
	if p.HasDuplicates != nil {
		in := "(a.duplicate_of IS NOT NULL OR EXISTS (SELECT 1 FROM articles d WHERE d.duplicate_of = a.id))"
		if !*p.HasDuplicates {
			in = "NOT " + in
		}
		b.conds = append(b.conds, in)
	}
}

// keyset adds the condition that starts a page after the cursor, on the
// outer query's columns key and seq, and returns the ORDER BY. nullsLast is
// what the backend needs to put NULL last in a descending order (SQLite
// does so already, and then uses an index for the order).
func (b *sqlBuilder) keyset(p *plan, published func(time.Time) any, nullsLast string) string {
	if p.Sort == SortRelevance {
		if c := p.after; c != nil {
			b.where("(key > {} OR (key = {} AND seq > {}))", c.Score, c.Score, c.Seq)
		}
		return " ORDER BY key, seq"
	}
	if c := p.after; c != nil {
		if c.Published == nil {
			b.where("(key IS NULL AND seq < {})", c.Seq)
		} else {
			t := published(*c.Published)
			b.where("(key < {} OR (key = {} AND seq < {}) OR key IS NULL)", t, t, c.Seq)
		}
	}
	return " ORDER BY key DESC" + nullsLast + ", seq DESC"
}

// pageSQL returns the query of a page: inner selects (seq, key) of the
// matching articles, where and order apply the cursor and the order, and
// only the page's rows are then joined to their records, so that the sort
// does not carry every match's record.
func pageSQL(inner, where, order, limit string) string {
	return "SELECT p.seq AS seq, a.record AS record, p.key AS key FROM (SELECT seq, key FROM (" + inner + ") i" +
		where + order + " LIMIT " + limit + ") p JOIN articles a ON a.seq = p.seq" + order
}

// searchRow is one row of a search: seq, the record and the sort key.
type searchRow struct {
	seq       int64
	record    []byte
	score     float64
	published *time.Time
}

// page decodes the rows (at most Limit+1) into a Page.
func (p *plan) page(rows []searchRow) (Page, error) {
	var pg Page
	for i, r := range rows {
		if i == p.Limit {
			last := rows[i-1]
			pg.Next = p.next(last.seq, last.score, last.published)
			break
		}
		a, err := decodeRecord(fmt.Sprintf("seq %d", r.seq), r.record)
		if err != nil {
			return Page{}, err
		}
		pg.Articles = append(pg.Articles, a)
	}
	if pg.Articles == nil {
		pg.Articles = []process.Article{}
	}
	return pg, nil
}

// IsQueryError reports whether err is a *QueryError, and returns it.
func IsQueryError(err error) (*QueryError, bool) {
	return errors.AsType[*QueryError](err)
}
