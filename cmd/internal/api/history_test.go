package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

func TestArticleHistory(t *testing.T) {
	storeBackends(t, func(t *testing.T, s store.Store, srv *httptest.Server) {
		// The bridge story is corrected twice, the second time under its
		// mobile address.
		v2 := article("bridge", 1, "Footbridge reopens", "The footbridge over the river reopened on Monday after the dry dock repairs.")
		v2.FetchedAt, v2.ContentHash = day.Add(time.Hour), "sha256:bridge-v2"
		v3 := article("bridge-mobile", 1, "Footbridge reopens to walkers", v2.Text)
		v3.URL = "https://m.news.example.org/bridge"
		v3.FetchedAt, v3.ContentHash = day.Add(2*time.Hour), v2.ContentHash
		for _, a := range []process.Article{v2, v3} {
			if _, err := s.Upsert(t.Context(), []process.Article{a}); err != nil {
				t.Fatal(err)
			}
		}

		var ans struct {
			Aliases   []store.Alias    `json:"aliases"`
			Revisions []map[string]any `json:"revisions"`
			Current   map[string]any   `json:"current"`
		}
		get(t, srv, "/api/v1/articles/bridge", http.StatusOK, &ans)
		if len(ans.Revisions) != 2 || ans.Current["rev"] != 3.0 || ans.Current["title"] != v3.Title {
			t.Errorf("revisions %v, current %v; want two and rev 3 %q", ans.Revisions, ans.Current, v3.Title)
		}
		if len(ans.Aliases) != 2 || ans.Aliases[0].URL != "https://news.example.org/bridge" || ans.Aliases[1].URL != v3.URL {
			t.Errorf("aliases = %+v, want the first address and the mobile one", ans.Aliases)
		}

		var revs struct {
			Revisions []struct {
				Rev       int    `json:"rev"`
				Text      string `json:"text"`
				TitleDiff string `json:"title_diff"`
				Diff      string `json:"diff"`
			} `json:"revisions"`
		}
		get(t, srv, "/api/v1/articles/bridge/revisions", http.StatusOK, &revs)
		if len(revs.Revisions) != 2 {
			t.Fatalf("revisions = %+v, want two", revs.Revisions)
		}
		r1, r2 := revs.Revisions[0], revs.Revisions[1]
		if !strings.Contains(r1.Diff, "--- rev 1\n+++ rev 2\n") || !strings.Contains(r1.Diff, "+The footbridge over the river reopened on Monday") || r1.TitleDiff != "" {
			t.Errorf("revision 1 diff %q, title diff %q", r1.Diff, r1.TitleDiff)
		}
		if r2.Diff != "" || r2.TitleDiff != "Footbridge reopens {+to walkers+}" {
			t.Errorf("revision 2 diff %q, title diff %q; want only the title changed", r2.Diff, r2.TitleDiff)
		}
		get(t, srv, "/api/v1/articles/bridge/revisions?diff=words", http.StatusOK, &revs)
		if got := revs.Revisions[0].Diff; got != "The footbridge over the river reopened {+on Monday+} after the dry dock repairs." {
			t.Errorf("word diff = %q", got)
		}
		var bad map[string]any
		get(t, srv, "/api/v1/articles/bridge/revisions?diff=colour", http.StatusBadRequest, &bad)
		get(t, srv, "/api/v1/articles/nope/revisions", http.StatusNotFound, &bad)
	})
}
