package api

import (
	"context"
	"net/http"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/store"
)

// Stats is the state of the pipeline that GET /api/v1/stats answers.
type Stats struct {
	// Time is when the figures were read.
	Time time.Time `json:"time"`
	// Streams are the streams with their consumers' backlog.
	Streams []bus.StreamStats `json:"streams"`
	// Stored is what the store holds and what this process stored.
	Stored StoredStats `json:"stored"`
	// Rates are the recent speeds.
	Rates Rates `json:"rates"`
}

// StoredStats counts articles: Articles in the store, and what this
// process's store stage did with the records it handled since it started.
type StoredStats struct {
	Articles  int       `json:"articles"`
	Since     time.Time `json:"since"`
	Inserted  int       `json:"inserted"`
	Updated   int       `json:"updated"`
	Unchanged int       `json:"unchanged"`
}

// Rates are speeds: ArticlesPerHour the articles first stored in each of
// the last 24 hours (hours without any left out), and StoredPerMinute the
// records this process inserted or updated a minute, on average since it
// started.
type Rates struct {
	ArticlesPerHour []store.HourCount `json:"articles_per_hour"`
	StoredPerMinute float64           `json:"stored_per_minute"`
}

// StatsReader reads the pipeline's state.
type StatsReader interface {
	Stats(ctx context.Context) (Stats, error)
}

// MountStats serves GET /api/v1/stats from s.
func (h *Handler) MountStats(s StatsReader) {
	h.handle("GET /api/v1/stats", func(w http.ResponseWriter, r *http.Request) {
		for name := range r.URL.Query() {
			writeError(w, http.StatusBadRequest, name, name+": unknown parameter (this endpoint has none)")
			return
		}
		st, err := s.Stats(r.Context())
		if err != nil {
			h.internalError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
}
