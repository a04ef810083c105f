package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

func TestArticlesShowAndRevisions(t *testing.T) {
	dir := t.TempDir()
	s, err := store.OpenSQLite(t.Context(), filepath.Join(dir, "newsflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	v := func(url, title, text string, hours int) process.Article {
		return process.Article{SchemaVersion: process.ArticleSchemaVersion, ID: "lock", URL: url, Feed: "town",
			Title: title, Text: text, ContentHash: "sha256:" + text, FetchedAt: day.Add(time.Duration(hours) * time.Hour),
			ExtractorVersion: process.ExtractorVersion}
	}
	for _, a := range []process.Article{
		v("https://example.org/lock", "Canal lock closes", "The canal lock closes for a week.\n\nBoats wait downstream.", 0),
		v("https://example.org/lock", "Canal lock closes", "The canal lock closes for two weeks.\n\nBoats wait downstream.", 1),
		v("https://example.org/lock", "Canal lock closes for repairs", "The canal lock closes for two weeks.\n\nBoats wait downstream.", 2),
	} {
		a.Link = a.URL + "?utm_source=rss"
		if _, err := s.Upsert(t.Context(), []process.Article{a}); err != nil {
			t.Fatal(err)
		}
	}

	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"articles", "show", "--data", dir, "lock"}, &out, &errOut); err != nil {
		t.Fatalf("show: %v: %s", err, errOut.String())
	}
	for _, want := range []string{"version:   3 (2 earlier)", "  2026-03-14 12:00:00  https://example.org/lock\n",
		"  1  2026-03-14 12:00:00 – 2026-03-14 13:00:00", "Canal lock closes for repairs", "closes for two weeks"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show output lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	if err := run(t.Context(), []string{"articles", "revisions", "--data", dir, "lock"}, &out, &errOut); err != nil {
		t.Fatalf("revisions: %v: %s", err, errOut.String())
	}
	want := "rev 1 -> rev 2, seen from 2026-03-14 13:00:00\n--- rev 1\n+++ rev 2\n@@ -1,3 +1,3 @@\n" +
		"-The canal lock closes for a week.\n+The canal lock closes for two weeks.\n \n Boats wait downstream.\n\n" +
		"rev 2 -> rev 3 (current), seen from 2026-03-14 14:00:00\ntitle: Canal lock closes {+for repairs+}\ntext: unchanged\n\n"
	if out.String() != want {
		t.Errorf("revisions =\n%s\nwant\n%s", out.String(), want)
	}

	out.Reset()
	if err := run(t.Context(), []string{"articles", "revisions", "--data", dir, "--diff", "words", "lock"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "The canal lock closes for [-a week.-] {+two weeks.+} Boats wait downstream.") {
		t.Errorf("word diff:\n%s", out.String())
	}
	for _, args := range [][]string{{"revisions", "--data", dir}, {"show", "--data", dir, "nope"}, {"revisions", "--data", dir, "--diff", "x", "lock"}} {
		if err := run(t.Context(), append([]string{"articles"}, args...), &out, &errOut); err == nil {
			t.Errorf("articles %v: no error", args)
		}
	}
}
