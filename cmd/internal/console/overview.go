package console

import (
	"net/http"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/api"
	"github.com/newsflow/newsflow/cmd/internal/bus"
)

// hour is a row of the articles-per-hour table.
type hour struct {
	Hour  time.Time
	Count int
}

// stage is a consumer's backlog.
type stage struct {
	Stream string
	bus.ConsumerStats
}

type overviewData struct {
	Stats    api.Stats
	Hours    []hour
	MaxHour  int
	Stages   []stage
	Parked   uint64
	Failing  []Feed
	Feeds    int
	NoFeeds  bool
	FeedsErr string
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	st, err := c.o.Stats.Stats(r.Context())
	if err != nil {
		c.failed(w, r, "read the pipeline's state", err)
		return
	}
	d := overviewData{Stats: st, MaxHour: 1}
	counts := map[time.Time]int{}
	for _, h := range st.Rates.ArticlesPerHour {
		counts[h.Hour.UTC()] = h.Count
	}
	now := st.Time.UTC().Truncate(time.Hour)
	for i := 23; i >= 0; i-- {
		h := now.Add(-time.Duration(i) * time.Hour)
		d.Hours = append(d.Hours, hour{Hour: h, Count: counts[h]})
		d.MaxHour = max(d.MaxHour, counts[h])
	}
	for _, s := range st.Streams {
		if s.Name == bus.StreamParked {
			d.Parked = s.Messages
		}
		for _, cs := range s.Consumers {
			d.Stages = append(d.Stages, stage{Stream: s.Name, ConsumerStats: cs})
		}
	}
	if c.o.Feeds == nil {
		d.NoFeeds = true
	} else if feeds, err := c.o.Feeds.Feeds(r.Context()); err != nil {
		c.o.Log.Error("console: list feeds", "err", err)
		d.FeedsErr = "The feed list could not be read."
	} else {
		d.Feeds = len(feeds)
		for _, f := range feeds {
			if f.Failing() {
				d.Failing = append(d.Failing, f)
			}
		}
	}
	c.render(w, r, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Data: d})
}
