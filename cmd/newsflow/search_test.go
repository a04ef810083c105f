package main

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// storedNewsroom writes three made-up articles into DATA/newsflow.db and
// keeps the store open for writing, as a running `newsflow run` does.
func storedNewsroom(t *testing.T) string {
	dir := t.TempDir()
	s, err := store.OpenSQLite(t.Context(), filepath.Join(dir, "newsflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	day := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	mk := func(id, feed, lang string, published time.Time, title, text string) process.Article {
		return process.Article{SchemaVersion: process.ArticleSchemaVersion, ID: id, URL: "https://example.org/" + id,
			Feed: feed, Language: lang, SiteName: "Example", Published: published, Title: title, Text: text,
			Authors: []string{"A. Writer", "B. Writer"}, ContentHash: "sha256:" + id, FetchedAt: day,
			ExtractorVersion: process.ExtractorVersion}
	}
	_, err = s.Upsert(t.Context(), []process.Article{
		mk("bridge", "town", "en", day, "Footbridge\treopens", "The footbridge reopened after the dry dock repairs, on time."),
		mk("ferry", "town", "en", day.Add(-48*time.Hour), "Ferry returns", "The ferry left the dry dock."),
		mk("chor", "stadt", "de", day.Add(-time.Hour), "Chor singt", "Der Chor sang im Dock."),
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestArticlesSearch(t *testing.T) {
	dir := storedNewsroom(t)
	tests := []struct {
		args []string
		want string
	}{
		// Best match first: the shorter text.
		{[]string{`"dry dock"`}, "2026-03-12 12:00:00\ttown\tFerry returns\thttps://example.org/ferry\n" +
			"2026-03-14 12:00:00\ttown\tFootbridge reopens\thttps://example.org/bridge\n"},
		{[]string{"--language", "de", "dock"}, "2026-03-14 11:00:00\tstadt\tChor singt\thttps://example.org/chor\n"},
		{[]string{"--feed", "town", "--since", "2026-03-13", "dock"}, "2026-03-14 12:00:00\ttown\tFootbridge reopens\thttps://example.org/bridge\n"},
		{[]string{"--site", "EXAMPLE", "--until", "2026-03-13T00:00:00Z", "dock"}, "2026-03-12 12:00:00\ttown\tFerry returns\thttps://example.org/ferry\n"},
		{[]string{"--limit", "1", "dock", "-chor"}, "2026-03-12 12:00:00\ttown\tFerry returns\thttps://example.org/ferry\n"},
		{[]string{"nothing"}, ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		args := append([]string{"articles", "search", "--data", dir}, tt.args...)
		if err := run(t.Context(), args, &out, &errOut); err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if out.String() != tt.want {
			t.Errorf("%v printed\n%s\nwant\n%s", tt.args, out.String(), tt.want)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{}, "no QUERY"},
		{[]string{"--limit", "0", "x"}, "--limit"},
		{[]string{"--since", "soon", "x"}, "-since"},
		{[]string{"--", "-x"}, "QUERY"},
		{[]string{"--since", "2026-03-14", "--until", "2026-03-13", "x"}, "--until"},
	} {
		err := run(t.Context(), append([]string{"articles", "search", "--data", dir}, tt.args...), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one naming %s", tt.args, err, tt.want)
		}
	}
}

func TestArticlesExportFiltersAndCSV(t *testing.T) {
	dir := storedNewsroom(t)
	var out bytes.Buffer
	if err := run(t.Context(), []string{"articles", "export", "--data", dir, "--format", "csv", "--language", "en", "--since", "2026-03-13"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(csvColumns, ",") {
		t.Fatalf("csv = %q, want the header and bridge", rows)
	}
	if got := rows[1]; got[0] != "bridge" || got[3] != "Footbridge\treopens" || got[4] != "A. Writer; B. Writer" || got[5] != "2026-03-14T12:00:00Z" || !strings.Contains(got[14], "on time") {
		t.Errorf("row = %q", got)
	}
	out.Reset()
	if err := run(t.Context(), []string{"articles", "export", "--data", dir, "--feed", "stadt"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"id":"chor"`) {
		t.Errorf("--feed stadt exported %q", lines)
	}
	err = run(t.Context(), []string{"articles", "export", "--data", dir, "--format", "xml"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--format") {
		t.Errorf("--format xml: error %v", err)
	}
}
