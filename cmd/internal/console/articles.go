package console

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// searchForm is the article search form as sent.
type searchForm struct {
	Q, Feed, Site, Language, Author, Since, Until, Duplicates, Sort string
}

type searchData struct {
	Form     searchForm
	Searched bool
	Articles []process.Article
	// Next is the query string of the next page, "" on the last.
	Next string
	// Field names the form field that was wrong.
	Field string
}

// pageSize is how many articles a result page lists.
const pageSize = 20

func (c *Console) searchPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	f := searchForm{Q: v.Get("q"), Feed: v.Get("feed"), Site: v.Get("site"), Language: v.Get("language"), Author: v.Get("author"),
		Since: v.Get("since"), Until: v.Get("until"), Duplicates: v.Get("duplicates"), Sort: v.Get("sort")}
	d := searchData{Form: f}
	fail := func(field, msg string) {
		d.Field = field
		c.render(w, r, http.StatusBadRequest, "articles", view{Title: "Articles", Nav: "articles", Error: msg, Data: d})
	}
	q := store.Query{Q: f.Q, Feed: f.Feed, Site: f.Site, Language: f.Language, Author: f.Author,
		Sort: store.Sort(f.Sort), Cursor: v.Get("cursor"), Limit: pageSize}
	var err error
	if q.Since, err = parseDate(f.Since); err != nil {
		fail("since", "Published from: "+err.Error())
		return
	}
	if q.Until, err = parseDate(f.Until); err != nil {
		fail("until", "Published until: "+err.Error())
		return
	}
	if !q.Until.IsZero() {
		q.Until = q.Until.Add(24 * time.Hour) // the whole last day
	}
	switch f.Duplicates {
	case "":
	case "yes", "no":
		b := f.Duplicates == "yes"
		q.HasDuplicates = &b
	default:
		fail("duplicates", "Near-duplicates: choose any, yes or no.")
		return
	}
	if q.Q == "" && q.Sort == store.SortRelevance {
		q.Sort = "" // relevance needs words; newest first instead
	}
	page, err := c.o.Articles.Search(r.Context(), q)
	if qe, ok := store.IsQueryError(err); ok {
		fail(qe.Param, qe.Err.Error())
		return
	}
	if err != nil {
		c.failed(w, r, "search the articles", err)
		return
	}
	d.Searched, d.Articles = true, page.Articles
	if page.Next != "" {
		v.Set("cursor", page.Next)
		d.Next = v.Encode()
	}
	c.render(w, r, http.StatusOK, "articles", view{Title: "Articles", Nav: "articles", Data: d})
}

// parseDate reads a date input's value (YYYY-MM-DD).
func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return t, errors.New("\"" + s + "\" is not a date such as 2026-03-14")
	}
	return t, nil
}

type articleData struct {
	Article    process.Article
	Duplicates []process.Article
	// Host is the original's host, shown with its link.
	Host string
}

func (c *Console) articlePage(w http.ResponseWriter, r *http.Request) {
	a, err := c.o.Articles.Get(r.Context(), r.PathValue("id"))
	if notFound(err) {
		c.fail(w, r, http.StatusNotFound, "There is no article with this id.")
		return
	}
	if err != nil {
		c.failed(w, r, "read the article", err)
		return
	}
	dups, err := c.o.Articles.NearDuplicates(r.Context(), a.ID)
	if err != nil {
		c.failed(w, r, "read the article's near-duplicates", err)
		return
	}
	d := articleData{Article: a, Duplicates: dups}
	if u, err := url.Parse(a.URL); err == nil {
		d.Host = u.Host
	}
	title := a.Title
	if title == "" {
		title = "Untitled article"
	}
	c.render(w, r, http.StatusOK, "article", view{Title: title, Nav: "articles", Data: d})
}
