package store

import (
	"context"
	"time"
)

// HourCount is how many articles were first stored in the hour that
// starts at Hour (UTC).
type HourCount struct {
	Hour  time.Time `json:"hour"`
	Count int       `json:"count"`
}

// ArticlesPerHour counts the articles first stored (first_seen) in each
// hour from since's hour on, oldest first; hours without any are left out.
func (s *SQLite) ArticlesPerHour(ctx context.Context, since time.Time) ([]HourCount, error) {
	since = since.UTC().Truncate(time.Hour)
	// first_seen <= fetched_at, so the fetched_at index narrows the scan.
	rows, err := s.r.QueryContext(ctx, `SELECT substr(first_seen, 1, 13), COUNT(*) FROM articles
		WHERE fetched_at >= ?1 AND first_seen >= ?1 GROUP BY 1 ORDER BY 1`, sqliteTime(since))
	if err != nil {
		return nil, classifySQLite("articles per hour", err)
	}
	defer rows.Close()
	out := []HourCount{} // an empty list, not null, in JSON
	for rows.Next() {
		var hour string
		var c HourCount
		if err := rows.Scan(&hour, &c.Count); err != nil {
			return nil, classifySQLite("articles per hour", err)
		}
		if c.Hour, err = time.Parse("2006-01-02T15", hour); err != nil {
			return nil, classifySQLite("articles per hour", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, classifySQLite("articles per hour", err)
	}
	return out, nil
}

// ArticlesPerHour counts the articles first stored (first_seen) in each
// hour from since's hour on, oldest first; hours without any are left out.
func (p *Postgres) ArticlesPerHour(ctx context.Context, since time.Time) ([]HourCount, error) {
	since = since.UTC().Truncate(time.Hour)
	rows, err := p.pool.Query(ctx, `SELECT date_trunc('hour', first_seen AT TIME ZONE 'UTC'), COUNT(*) FROM articles
		WHERE fetched_at >= $1 AND first_seen >= $1 GROUP BY 1 ORDER BY 1`, since)
	if err != nil {
		return nil, classifyPostgres("articles per hour", err)
	}
	defer rows.Close()
	out := []HourCount{} // an empty list, not null, in JSON
	for rows.Next() {
		var c HourCount
		var n int64
		if err := rows.Scan(&c.Hour, &n); err != nil {
			return nil, classifyPostgres("articles per hour", err)
		}
		c.Hour, c.Count = time.Date(c.Hour.Year(), c.Hour.Month(), c.Hour.Day(), c.Hour.Hour(), 0, 0, 0, time.UTC), int(n)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, classifyPostgres("articles per hour", err)
	}
	return out, nil
}
