package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/api"
	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/cmd/internal/console"
	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/store"
)

// parkedMessages is the parked stream as the API and the console use it:
// a retried raw article whose page failed has its page fetched again (see
// refetcher).
type parkedMessages struct {
	bus     *bus.Bus
	refetch func(ctx context.Context, subject string, data []byte) ([]byte, error)
}

func newParkedMessages(b *bus.Bus, allowPrivate bool) parkedMessages {
	return parkedMessages{bus: b, refetch: refetcher(ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: allowPrivate}))}
}

func (p parkedMessages) ParkedAfter(ctx context.Context, after uint64, limit int) ([]bus.Parked, uint64, error) {
	return p.bus.ParkedAfter(ctx, after, limit)
}

func (p parkedMessages) RetryParked(ctx context.Context, seq uint64) error {
	return p.bus.RetryParked(ctx, seq, func(subject string, data []byte) ([]byte, error) {
		return p.refetch(ctx, subject, data)
	})
}

// statsStore is what the stats read of the store.
type statsStore interface {
	Count(ctx context.Context) (int, error)
	ArticlesPerHour(ctx context.Context, since time.Time) ([]store.HourCount, error)
}

// Stats reads the streams and their consumers, what the store holds and
// what this process stored since it started.
func (p *pipeline) Stats(ctx context.Context) (api.Stats, error) {
	now := time.Now().UTC()
	streams, err := p.bus.Stats(ctx)
	if err != nil {
		return api.Stats{}, err
	}
	st := api.Stats{Time: now, Streams: streams, Rates: api.Rates{ArticlesPerHour: []store.HourCount{}}}
	s := p.storedStats()
	st.Stored = api.StoredStats{Since: p.started.UTC(), Inserted: s.Inserted, Updated: s.Updated, Unchanged: s.Unchanged}
	if minutes := now.Sub(p.started).Minutes(); minutes > 0 {
		st.Rates.StoredPerMinute = float64(s.Inserted+s.Updated) / minutes
	}
	if db, ok := p.db.(statsStore); ok {
		if st.Stored.Articles, err = db.Count(ctx); err != nil {
			return api.Stats{}, fmt.Errorf("stats: %w", err)
		}
		if st.Rates.ArticlesPerHour, err = db.ArticlesPerHour(ctx, now.Add(-23*time.Hour)); err != nil {
			return api.Stats{}, fmt.Errorf("stats: %w", err)
		}
	}
	return st, nil
}

// mountAPI serves the API (/api/v1/: articles, feeds, parked messages,
// stats) and the web console (/) on mux when this process has a store. On
// an address other than loopback every request must carry the API token;
// without one the server does not start.
func (p *pipeline) mountAPI(ctx context.Context, mux *http.ServeMux, addr string) error {
	token := p.cfg.apiToken
	if err := api.CheckAddr(addr, token); err != nil {
		return fmt.Errorf("--http ($NEWSFLOW_HTTP): %w", err)
	}
	articles, ok := p.db.(api.Articles)
	if !ok {
		return nil
	}
	feeds, err := p.feedSources(ctx)
	if err != nil {
		return err
	}
	parked := newParkedMessages(p.bus, p.cfg.allowPrivate)
	h := api.New(articles, token, p.log)
	h.ServeFeeds(feeds)
	h.MountParked(parked)
	h.MountStats(p)
	h.Register(mux)
	cf := consoleFeeds{feeds}
	c, err := console.New(console.Options{Articles: articles, Parked: parked, Stats: p,
		Feeds: cf, FeedEditor: cf, FeedOPML: cf, Token: token, Log: p.log})
	if err != nil {
		return err
	}
	c.Register(mux)
	return nil
}

// consoleFeeds is the feed registry and health as the console's Feeds
// page uses them.
type consoleFeeds struct{ f api.Feeds }

func (c consoleFeeds) Feeds(ctx context.Context) ([]console.Feed, error) {
	health, err := c.f.Health(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]console.Feed, 0, len(health))
	for _, h := range health {
		f := console.Feed{Token: h.Token, URL: h.URL, Title: h.Title, Paused: h.Paused, LastFetch: h.LastFetch,
			LastSuccess: h.LastSuccess, ErrorStreak: h.ErrorStreak, LastError: h.LastError, NextPoll: h.NextPoll,
			ItemsSeen: h.ItemsSeen, Parked: h.PagesParked}
		if h.ArticlesStored != nil {
			f.Stored = int(*h.ArticlesStored)
		}
		if h.NoTextShare != nil {
			f.NoText = *h.NoTextShare
		}
		out = append(out, f)
	}
	return out, nil
}

func (c consoleFeeds) AddFeed(ctx context.Context, url string) (int, error) {
	if _, _, err := c.f.Add(ctx, url, ""); err != nil {
		return 0, err
	}
	return 1, nil
}

func (c consoleFeeds) RemoveFeed(ctx context.Context, token string) error {
	_, err := c.f.Registry.ChangeFeed(ctx, token, ingest.FeedRemove)
	return err
}

func (c consoleFeeds) PauseFeed(ctx context.Context, token string, pause bool) error {
	op := ingest.FeedResume
	if pause {
		op = ingest.FeedPause
	}
	_, err := c.f.Registry.ChangeFeed(ctx, token, op)
	return err
}

func (c consoleFeeds) ImportOPML(ctx context.Context, r io.Reader) (int, error) {
	feeds, err := ingest.ReadFeedList(r)
	if err != nil {
		return 0, fmt.Errorf("not an OPML document: %w", err)
	}
	if len(feeds) == 0 {
		return 0, errors.New("the OPML document lists no feeds (outline elements with an xmlUrl)")
	}
	added, _, err := c.f.Import(ctx, feeds)
	return len(added), err
}

func (c consoleFeeds) ExportOPML(ctx context.Context, w io.Writer) error {
	return c.f.ExportOPML(ctx, w)
}
