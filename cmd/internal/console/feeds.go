package console

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Feed is a feed as the Feeds page shows it: its registry entry and its
// health.
type Feed struct {
	// Token names the feed in subjects, records and these pages' forms.
	Token, URL, Title string
	Paused            bool
	LastFetch         time.Time
	LastSuccess       time.Time
	// ErrorStreak counts the failed polls since the last success;
	// LastError is the latest failure.
	ErrorStreak int
	LastError   string
	NextPoll    time.Time
	ItemsSeen   int
	Stored      int
	Parked      int
	// NoText is the share of pages from which no text was extracted.
	NoText float64
}

// Failing reports whether the feed's last poll failed.
func (f Feed) Failing() bool { return !f.Paused && f.ErrorStreak > 0 }

// FeedLister lists the feeds with their health.
type FeedLister interface {
	Feeds(ctx context.Context) ([]Feed, error)
}

// FeedEditor adds, removes, pauses and resumes feeds.
type FeedEditor interface {
	// AddFeed registers the feed at url, or the feeds a site's page at
	// url names, and returns how many were added.
	AddFeed(ctx context.Context, url string) (int, error)
	RemoveFeed(ctx context.Context, token string) error
	PauseFeed(ctx context.Context, token string, pause bool) error
}

// FeedOPML imports and exports the feed list as OPML.
type FeedOPML interface {
	ImportOPML(ctx context.Context, r io.Reader) (int, error)
	ExportOPML(ctx context.Context, w io.Writer) error
}

type feedsData struct {
	Feeds  []Feed
	Edit   bool // forms to add, remove, pause and resume
	OPML   bool // forms to import and export
	Absent bool // this console cannot see the feeds
	URL    string
}

func (c *Console) feedsPage(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Feeds", Nav: "feeds", Flash: feedFlash(r.URL.Query())}
	c.showFeeds(w, r, http.StatusOK, v, "")
}

// feedFlash says what the last feed form did, from the redirect's query.
func feedFlash(q url.Values) string {
	switch {
	case q.Has("added"):
		return "Feed added: it is polled shortly."
	case q.Has("removed"):
		return "Feed removed."
	case q.Has("paused"):
		return "Feed paused."
	case q.Has("resumed"):
		return "Feed resumed."
	case q.Has("imported"):
		n, err := strconv.Atoi(q.Get("imported"))
		if err != nil {
			return "OPML imported."
		}
		return fmt.Sprintf("OPML imported: %d new feeds.", n)
	}
	return ""
}

func (c *Console) showFeeds(w http.ResponseWriter, r *http.Request, status int, v view, typed string) {
	d := feedsData{Edit: c.o.FeedEditor != nil, OPML: c.o.FeedOPML != nil, Absent: c.o.Feeds == nil, URL: typed}
	if c.o.Feeds != nil {
		feeds, err := c.o.Feeds.Feeds(r.Context())
		if err != nil {
			c.failed(w, r, "list the feeds", err)
			return
		}
		d.Feeds = feeds
	}
	v.Data = d
	c.render(w, r, status, "feeds", v)
}

func (c *Console) addFeed(w http.ResponseWriter, r *http.Request) {
	if c.o.FeedEditor == nil {
		c.fail(w, r, http.StatusNotFound, "Feeds cannot be added from this console.")
		return
	}
	u := r.PostFormValue("url")
	if _, err := c.o.FeedEditor.AddFeed(r.Context(), u); err != nil {
		c.showFeeds(w, r, http.StatusBadRequest, view{Title: "Feeds", Nav: "feeds", Error: "Could not add the feed: " + err.Error()}, u)
		return
	}
	http.Redirect(w, r, "/feeds?added", http.StatusSeeOther)
}

func (c *Console) changeFeed(w http.ResponseWriter, r *http.Request) {
	if c.o.FeedEditor == nil {
		c.fail(w, r, http.StatusNotFound, "Feeds cannot be changed from this console.")
		return
	}
	token := r.PathValue("token")
	var err error
	var done string
	switch r.PathValue("action") {
	case "remove":
		err, done = c.o.FeedEditor.RemoveFeed(r.Context(), token), "removed"
	case "pause":
		err, done = c.o.FeedEditor.PauseFeed(r.Context(), token, true), "paused"
	case "resume":
		err, done = c.o.FeedEditor.PauseFeed(r.Context(), token, false), "resumed"
	default:
		c.fail(w, r, http.StatusNotFound, "There is no such feed action.")
		return
	}
	if err != nil {
		c.showFeeds(w, r, http.StatusBadRequest, view{Title: "Feeds", Nav: "feeds", Error: fmt.Sprintf("Could not change feed %s: %v", token, err)}, "")
		return
	}
	http.Redirect(w, r, "/feeds?"+done, http.StatusSeeOther)
}

func (c *Console) importOPML(w http.ResponseWriter, r *http.Request) {
	if c.o.FeedOPML == nil {
		c.fail(w, r, http.StatusNotFound, "Feeds cannot be imported from this console.")
		return
	}
	f, _, err := r.FormFile("opml")
	if err != nil {
		c.showFeeds(w, r, http.StatusBadRequest, view{Title: "Feeds", Nav: "feeds", Error: "Choose an OPML file to import."}, "")
		return
	}
	defer f.Close()
	n, err := c.o.FeedOPML.ImportOPML(r.Context(), f)
	if err != nil {
		c.showFeeds(w, r, http.StatusBadRequest, view{Title: "Feeds", Nav: "feeds", Error: "Could not import the OPML file: " + err.Error()}, "")
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/feeds?imported=%d", n), http.StatusSeeOther)
}

func (c *Console) exportOPML(w http.ResponseWriter, r *http.Request) {
	if c.o.FeedOPML == nil {
		c.fail(w, r, http.StatusNotFound, "Feeds cannot be exported from this console.")
		return
	}
	var b bytes.Buffer
	if err := c.o.FeedOPML.ExportOPML(r.Context(), &b); err != nil {
		c.failed(w, r, "export the feeds", err)
		return
	}
	w.Header().Set("Content-Type", "text/x-opml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="newsflow-feeds.opml"`)
	w.Write(b.Bytes())
}
