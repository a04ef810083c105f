package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Aliases returns the addresses the article with the id was seen under,
// in the order they were first seen; none for an unknown id.
func (s *SQLite) Aliases(ctx context.Context, id string) ([]Alias, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT url, first_seen FROM article_aliases WHERE article_id = ?
		ORDER BY first_seen, url`, id)
	if err != nil {
		return nil, classifySQLite(fmt.Sprintf("aliases of %q", id), err)
	}
	defer rows.Close()
	var out []Alias
	for rows.Next() {
		var a Alias
		var seen string
		if err := rows.Scan(&a.URL, &seen); err != nil {
			return nil, classifySQLite(fmt.Sprintf("aliases of %q", id), err)
		}
		if a.FirstSeen, err = time.Parse(time.RFC3339Nano, seen); err != nil {
			return nil, fmt.Errorf("store: aliases of %q: first_seen %q: %w", id, seen, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, classifySQLite(fmt.Sprintf("aliases of %q", id), err)
	}
	return out, nil
}

// Revisions returns the earlier versions of the article with the id,
// oldest first; none for an unknown id.
func (s *SQLite) Revisions(ctx context.Context, id string) ([]Revision, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT rev, seen_from, seen_until, record FROM article_revisions
		WHERE article_id = ? ORDER BY rev`, id)
	if err != nil {
		return nil, classifySQLite(fmt.Sprintf("revisions of %q", id), err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r Revision
		var from, until string
		var record []byte
		if err := rows.Scan(&r.Rev, &from, &until, &record); err != nil {
			return nil, classifySQLite(fmt.Sprintf("revisions of %q", id), err)
		}
		if r.SeenFrom, err = time.Parse(time.RFC3339Nano, from); err == nil {
			r.SeenUntil, err = time.Parse(time.RFC3339Nano, until)
		}
		if err != nil {
			return nil, fmt.Errorf("store: revisions of %q: %w", id, err)
		}
		if r.Article, err = decodeRecord(id, record); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, classifySQLite(fmt.Sprintf("revisions of %q", id), err)
	}
	return out, nil
}

// Aliases returns the addresses the article with the id was seen under,
// in the order they were first seen; none for an unknown id.
func (p *Postgres) Aliases(ctx context.Context, id string) ([]Alias, error) {
	rows, err := p.pool.Query(ctx, `SELECT url, first_seen FROM article_aliases WHERE article_id = $1
		ORDER BY first_seen, url`, id)
	if err != nil {
		return nil, classifyPostgres(fmt.Sprintf("aliases of %q", id), err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Alias, error) {
		var a Alias
		err := row.Scan(&a.URL, &a.FirstSeen)
		a.FirstSeen = a.FirstSeen.UTC()
		return a, err
	})
	if err != nil {
		return nil, classifyPostgres(fmt.Sprintf("aliases of %q", id), err)
	}
	return out, nil
}

// Revisions returns the earlier versions of the article with the id,
// oldest first; none for an unknown id.
func (p *Postgres) Revisions(ctx context.Context, id string) ([]Revision, error) {
	rows, err := p.pool.Query(ctx, `SELECT rev, seen_from, seen_until, record FROM article_revisions
		WHERE article_id = $1 ORDER BY rev`, id)
	if err != nil {
		return nil, classifyPostgres(fmt.Sprintf("revisions of %q", id), err)
	}
	type row struct {
		r      Revision
		record []byte
	}
	got, err := pgx.CollectRows(rows, func(cr pgx.CollectableRow) (row, error) {
		var r row
		err := cr.Scan(&r.r.Rev, &r.r.SeenFrom, &r.r.SeenUntil, &r.record)
		r.r.SeenFrom, r.r.SeenUntil = r.r.SeenFrom.UTC(), r.r.SeenUntil.UTC()
		return r, err
	})
	if err != nil {
		return nil, classifyPostgres(fmt.Sprintf("revisions of %q", id), err)
	}
	out := make([]Revision, 0, len(got))
	for _, g := range got {
		if g.r.Article, err = decodeRecord(id, g.record); err != nil {
			return nil, err
		}
		out = append(out, g.r)
	}
	return out, nil
}
