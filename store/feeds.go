package store

import (
	"context"
)

// FeedCount is what the store holds of one feed.
type FeedCount struct {
	// Articles is how many articles of the feed are stored.
	Articles int64 `json:"articles"`
	// NoText is how many of them have no text (a word count of 0).
	NoText int64 `json:"no_text"`
}

// feedCountsSQL counts the articles of each feed; $.word_count and
// ->>'word_count' are the record's process.Article.WordCount.
const (
	sqliteFeedCounts = `SELECT feed, COUNT(*),
		COALESCE(SUM(CASE WHEN COALESCE(json_extract(record, '$.word_count'), 0) = 0 THEN 1 ELSE 0 END), 0)
		FROM articles GROUP BY feed`
	postgresFeedCounts = `SELECT feed, COUNT(*),
		COUNT(*) FILTER (WHERE COALESCE((record->>'word_count')::bigint, 0) = 0)
		FROM articles GROUP BY feed`
)

// FeedCounts returns the stored articles of each feed, by feed token.
func (s *SQLite) FeedCounts(ctx context.Context) (map[string]FeedCount, error) {
	rows, err := s.r.QueryContext(ctx, sqliteFeedCounts)
	if err != nil {
		return nil, classifySQLite("count by feed", err)
	}
	defer rows.Close()
	return scanFeedCounts(rows, classifySQLite)
}

// FeedCounts returns the stored articles of each feed, by feed token.
func (p *Postgres) FeedCounts(ctx context.Context) (map[string]FeedCount, error) {
	rows, err := p.pool.Query(ctx, postgresFeedCounts)
	if err != nil {
		return nil, classifyPostgres("count by feed", err)
	}
	defer rows.Close()
	return scanFeedCounts(rows, classifyPostgres)
}

// scanFeedCounts reads the (feed, articles, no text) rows of a backend's
// feed counts query; classify names the failures of its driver.
func scanFeedCounts(rows records, classify func(op string, err error) error) (map[string]FeedCount, error) {
	out := map[string]FeedCount{}
	for rows.Next() {
		var feed string
		var c FeedCount
		if err := rows.Scan(&feed, &c.Articles, &c.NoText); err != nil {
			return nil, classify("count by feed", err)
		}
		out[feed] = c
	}
	if err := rows.Err(); err != nil {
		return nil, classify("count by feed", err)
	}
	return out, nil
}
