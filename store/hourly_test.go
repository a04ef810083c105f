package store

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/newsflow/newsflow/process"
)

// testArticlesPerHour: articles count in the hour they were first stored,
// an update does not move them, and hours before since are left out.
func testArticlesPerHour(t *testing.T, s store) {
	hour := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	// Each story its own sample (length of id alone would make "old" and
	// "ccc" one story told twice, which the store keeps as one row).
	index := map[string]int{"old": 1, "a": 2, "bb": 3, "ccc": 4}
	at := func(id string, fetched time.Time) process.Article {
		a := sampleArticle(id, index[id])
		a.FetchedAt = fetched
		return a
	}
	if _, err := s.Upsert(t.Context(), []process.Article{
		at("old", hour.Add(-2*time.Hour)),
		at("a", hour.Add(5*time.Minute)),
		at("bb", hour.Add(59*time.Minute)),
		at("ccc", hour.Add(61*time.Minute)),
	}); err != nil {
		t.Fatal(err)
	}
	// A new version of a, fetched an hour later, stays in a's first hour.
	edited := at("a", hour.Add(90*time.Minute))
	edited.Text += " An update."
	edited.ContentHash = "sha256:edited"
	if st, err := s.Upsert(t.Context(), []process.Article{edited}); err != nil || st.Updated != 1 {
		t.Fatalf("update: %+v, %v", st, err)
	}
	got, err := s.ArticlesPerHour(t.Context(), hour.Add(-30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	want := []HourCount{{Hour: hour, Count: 2}, {Hour: hour.Add(time.Hour), Count: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("ArticlesPerHour = %v, want %v", fmt.Sprint(got), fmt.Sprint(want))
	}
	if got, err := s.ArticlesPerHour(t.Context(), hour.Add(3*time.Hour)); err != nil || got == nil || len(got) != 0 {
		t.Errorf("ArticlesPerHour after the last = %#v, %v; want an empty list (JSON [], not null)", got, err)
	}
}
