package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/textdiff"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// History is what the API reads of an article's past; *store.SQLite and
// *store.Postgres have it. The article answers carry aliases and revisions
// when the Articles given to New have it too.
type History interface {
	Aliases(ctx context.Context, id string) ([]store.Alias, error)
	Revisions(ctx context.Context, id string) ([]store.Revision, error)
}

// version sums up one version of an article.
type version struct {
	Rev         int       `json:"rev"`
	Title       string    `json:"title"`
	Published   time.Time `json:"published,omitzero"`
	Modified    time.Time `json:"modified,omitzero"`
	WordCount   int       `json:"word_count"`
	ContentHash string    `json:"content_hash"`
	// SeenFrom and SeenUntil bound when the version was served: the fetch
	// time of its first record and of the record that replaced it
	// (SeenUntil is absent for the current version).
	SeenFrom  time.Time `json:"seen_from,omitzero"`
	SeenUntil time.Time `json:"seen_until,omitzero"`
}

func versionOf(rev int, a process.Article, from, until time.Time) version {
	return version{Rev: rev, Title: a.Title, Published: a.Published, Modified: a.Modified, WordCount: a.WordCount,
		ContentHash: a.ContentHash, SeenFrom: from, SeenUntil: until}
}

// revisionDiff is one earlier version with what changed in the next one.
type revisionDiff struct {
	version
	Text string `json:"text"`
	// TitleDiff and Diff are the changes from this version to the next
	// one (the next revision, or the current record), "" where there are
	// none: the title word by word, the text as asked (diff parameter).
	TitleDiff string `json:"title_diff"`
	Diff      string `json:"diff"`
}

// revisionsAnswer is the body of GET /api/v1/articles/{id}/revisions.
type revisionsAnswer struct {
	ID        string         `json:"id"`
	Current   version        `json:"current"`
	Revisions []revisionDiff `json:"revisions"`
}

// history returns the article's aliases and earlier versions, none when
// the store does not keep them.
func (h *Handler) history(ctx context.Context, id string) ([]store.Alias, []store.Revision, error) {
	hs, ok := h.articles.(History)
	if !ok {
		return []store.Alias{}, nil, nil
	}
	aliases, err := hs.Aliases(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	revs, err := hs.Revisions(ctx, id)
	if aliases == nil {
		aliases = []store.Alias{}
	}
	return aliases, revs, err
}

// versions sums up the earlier versions, and the current one as the last.
func versions(a process.Article, revs []store.Revision) []version {
	out := make([]version, 0, len(revs)+1)
	var from time.Time
	for _, r := range revs {
		out = append(out, versionOf(r.Rev, r.Article, r.SeenFrom, r.SeenUntil))
		from = r.SeenUntil
	}
	return append(out, versionOf(len(revs)+1, a, from, time.Time{}))
}

func (h *Handler) getRevisions(w http.ResponseWriter, r *http.Request) {
	format := "unified"
	for name, vals := range r.URL.Query() {
		if name != "diff" {
			writeError(w, http.StatusBadRequest, name, name+": unknown parameter (known: diff)")
			return
		}
		format = vals[0]
	}
	if format != "unified" && format != "words" && format != "none" {
		writeError(w, http.StatusBadRequest, "diff", fmt.Sprintf("diff: %q is not unified, words or none", format))
		return
	}
	id := r.PathValue("id")
	a, err := h.articles.Get(r.Context(), id)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	_, revs, err := h.history(r.Context(), id)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	vs := versions(a, revs)
	ans := revisionsAnswer{ID: id, Current: vs[len(vs)-1], Revisions: make([]revisionDiff, 0, len(revs))}
	for i, rev := range revs {
		next := a
		if i+1 < len(revs) {
			next = revs[i+1].Article
		}
		d := revisionDiff{version: vs[i], Text: rev.Article.Text}
		if rev.Article.Title != next.Title {
			d.TitleDiff = textdiff.Words(rev.Article.Title, next.Title)
		}
		switch format {
		case "unified":
			d.Diff = textdiff.Unified(rev.Article.Text, next.Text, fmt.Sprintf("rev %d", vs[i].Rev), fmt.Sprintf("rev %d", vs[i+1].Rev))
		case "words":
			if rev.Article.Text != next.Text {
				d.Diff = textdiff.Words(rev.Article.Text, next.Text)
			}
		}
		ans.Revisions = append(ans.Revisions, d)
	}
	writeJSON(w, http.StatusOK, ans)
}
