package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// searchParams are the query parameters of GET /api/v1/articles.
var searchParams = []string{"q", "feed", "site", "language", "author", "since", "until", "has_duplicates", "sort", "cursor", "limit", "fields"}

// badParam is a query parameter that cannot be used as it is.
type badParam struct {
	param string
	msg   string
}

func (e *badParam) Error() string { return e.param + ": " + e.msg }

// parseSearch reads a search request's parameters into a store.Query and
// the fields to answer with.
func (h *Handler) parseSearch(v url.Values) (store.Query, []string, error) {
	var q store.Query
	for name, vals := range v {
		if !slices.Contains(searchParams, name) {
			return q, nil, &badParam{name, fmt.Sprintf("unknown parameter (known: %s)", strings.Join(searchParams, ", "))}
		}
		if len(vals) > 1 {
			return q, nil, &badParam{name, "given more than once"}
		}
	}
	q.Q, q.Feed, q.Site, q.Language, q.Author = v.Get("q"), v.Get("feed"), v.Get("site"), v.Get("language"), v.Get("author")
	q.Sort, q.Cursor = store.Sort(v.Get("sort")), v.Get("cursor")
	var err error
	if q.Since, err = parseTime("since", v.Get("since")); err != nil {
		return q, nil, err
	}
	if q.Until, err = parseTime("until", v.Get("until")); err != nil {
		return q, nil, err
	}
	if s := v.Get("has_duplicates"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, nil, &badParam{"has_duplicates", fmt.Sprintf("%q is not true or false", s)}
		}
		q.HasDuplicates = &b
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, nil, &badParam{"limit", fmt.Sprintf("%q is not a number from 1 to %d", s, MaxLimit)}
		}
		q.Limit = n
	}
	fields, err := h.parseFields(v.Get("fields"))
	return q, fields, err
}

// parseTime reads an RFC 3339 time or a date (midnight UTC).
func parseTime(param, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, &badParam{param, fmt.Sprintf("%q is not a date (2026-03-14) or an RFC 3339 time (2026-03-14T09:30:00Z)", s)}
}

// parseFields reads a comma-separated list of article fields; "" is all.
func (h *Handler) parseFields(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var fields []string
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if !h.fields[f] {
			return nil, &badParam{"fields", fmt.Sprintf("%q is not a field of an article", f)}
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// project returns the article as JSON with only the fields (all if none).
func project(a process.Article, fields []string) (json.RawMessage, error) {
	b, err := json.Marshal(a)
	if err != nil || len(fields) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	some := make(map[string]json.RawMessage, len(fields))
	for _, f := range fields {
		if v, ok := all[f]; ok {
			some[f] = v
		}
	}
	return json.Marshal(some)
}

// searchAnswer is the body of GET /api/v1/articles.
type searchAnswer struct {
	Articles []json.RawMessage `json:"articles"`
	// NextCursor continues the search ("" after the last page); Next is
	// the same request with it.
	NextCursor string `json:"next_cursor,omitempty"`
	Next       string `json:"next,omitempty"`
}

func (h *Handler) searchArticles(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	q, fields, err := h.parseSearch(params)
	if bp, ok := err.(*badParam); ok {
		writeError(w, http.StatusBadRequest, bp.param, bp.Error())
		return
	}
	page, err := h.articles.Search(r.Context(), q)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	ans := searchAnswer{Articles: make([]json.RawMessage, 0, len(page.Articles)), NextCursor: page.Next}
	for _, a := range page.Articles {
		b, err := project(a, fields)
		if err != nil {
			h.storeError(w, r, err)
			return
		}
		ans.Articles = append(ans.Articles, b)
	}
	if page.Next != "" {
		params.Set("cursor", page.Next)
		ans.Next = r.URL.Path + "?" + params.Encode()
	}
	writeJSON(w, http.StatusOK, ans)
}

// duplicate is how an article's near-duplicates are listed.
type duplicate struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Feed        string    `json:"feed,omitempty"`
	SiteName    string    `json:"site_name,omitempty"`
	Published   time.Time `json:"published,omitzero"`
	DuplicateOf string    `json:"duplicate_of,omitempty"`
}

// articleAnswer is the body of GET /api/v1/articles/{id}.
type articleAnswer struct {
	Article        json.RawMessage `json:"article"`
	NearDuplicates []duplicate     `json:"near_duplicates"`
	// Aliases are the addresses the article was seen under; Revisions
	// sum up its earlier versions, oldest first; Current sums up the
	// stored one (its rev is one more than the last revision's).
	Aliases   []store.Alias `json:"aliases"`
	Revisions []version     `json:"revisions"`
	Current   version       `json:"current"`
}

func (h *Handler) getArticle(w http.ResponseWriter, r *http.Request) {
	for name := range r.URL.Query() {
		if name != "fields" {
			writeError(w, http.StatusBadRequest, name, name+": unknown parameter (known: fields)")
			return
		}
	}
	fields, err := h.parseFields(r.URL.Query().Get("fields"))
	if bp, ok := err.(*badParam); ok {
		writeError(w, http.StatusBadRequest, bp.param, bp.Error())
		return
	}
	id := r.PathValue("id")
	a, err := h.articles.Get(r.Context(), id)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	dups, err := h.articles.NearDuplicates(r.Context(), id)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	aliases, revs, err := h.history(r.Context(), id)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	vs := versions(a, revs)
	ans := articleAnswer{NearDuplicates: []duplicate{}, Aliases: aliases, Revisions: vs[:len(vs)-1], Current: vs[len(vs)-1]}
	if ans.Article, err = project(a, fields); err != nil {
		h.storeError(w, r, err)
		return
	}
	for _, d := range dups {
		ans.NearDuplicates = append(ans.NearDuplicates, duplicate{ID: d.ID, URL: d.URL, Title: d.Title, Feed: d.Feed,
			SiteName: d.SiteName, Published: d.Published, DuplicateOf: d.DuplicateOf})
	}
	writeJSON(w, http.StatusOK, ans)
}
