package store

import (
	"context"
	"errors"
	"time"

	"github.com/newsflow/newsflow/process"
)

// Store is the method set that both backends, *SQLite and *Postgres, have.
type Store interface {
	// Upsert writes a batch of articles in one transaction and reports what
	// happened to each of them. Nothing is written if it returns an error.
	Upsert(ctx context.Context, batch []process.Article) (UpsertStats, error)
	// Get returns the article with the id, or an error wrapping ErrNotFound.
	Get(ctx context.Context, id string) (process.Article, error)
	// Each calls fn for every stored article in (fetched_at, id) order, and
	// stops at the first error fn returns, returning it.
	Each(ctx context.Context, fn func(process.Article) error) error
	// Search returns a page of the articles that a Query selects, in its
	// order; a query that cannot run is a *QueryError.
	Search(ctx context.Context, q Query) (Page, error)
	// NearDuplicates returns the other articles of the id's near-duplicate
	// group: the one it duplicates and those that duplicate it.
	NearDuplicates(ctx context.Context, id string) ([]process.Article, error)
	// Count returns the number of stored articles.
	Count(ctx context.Context) (int, error)
	// ArticlesPerHour counts the articles first stored in each hour since
	// the given time's hour.
	ArticlesPerHour(ctx context.Context, since time.Time) ([]HourCount, error)
	// FeedCounts returns what is stored of each feed, by feed token.
	FeedCounts(ctx context.Context) (map[string]FeedCount, error)
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

var (
	_ Store = (*SQLite)(nil)
	_ Store = (*Postgres)(nil)
)

// UpsertStats counts what an Upsert did with the articles of a batch; the
// three counts add up to the batch length.
type UpsertStats struct {
	// Inserted counts articles with an id that was not stored yet.
	Inserted int
	// Updated counts articles that replaced the stored record of their id.
	Updated int
	// Unchanged counts articles that caused no write: the stored record has
	// the same content hash and extractor version, or is newer.
	Unchanged int
}

// Add adds the counts of o to s.
func (s *UpsertStats) Add(o UpsertStats) {
	s.Inserted += o.Inserted
	s.Updated += o.Updated
	s.Unchanged += o.Unchanged
}

// ErrNotFound is returned (wrapped) by Get when no article has the id.
var ErrNotFound = errors.New("store: article not found")
