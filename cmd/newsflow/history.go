package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/textdiff"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// articleHistory is what `articles show` and `articles revisions` read.
type articleHistory interface {
	Get(ctx context.Context, id string) (process.Article, error)
	Aliases(ctx context.Context, id string) ([]store.Alias, error)
	Revisions(ctx context.Context, id string) ([]store.Revision, error)
}

// openHistory parses the flags of an `articles show|revisions ID`
// command, opens the store and reads the article with its past.
func openHistory(ctx context.Context, name string, fs *flag.FlagSet, e *envFlags, r *readerFlags, args []string) (process.Article, []store.Alias, []store.Revision, error) {
	fail := func(err error) (process.Article, []store.Alias, []store.Revision, error) {
		return process.Article{}, nil, nil, err
	}
	if err := fs.Parse(args); err != nil {
		return fail(err)
	}
	if fs.NArg() != 1 {
		e.errs = append(e.errs, fmt.Errorf("%s: give one article ID (got %d arguments)", name, fs.NArg()))
	}
	if len(e.errs) > 0 {
		return fail(joinLines(e.errs))
	}
	id := fs.Arg(0)
	db, err := r.open(ctx)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", name, err))
	}
	defer db.Close()
	h, ok := db.(articleHistory)
	if !ok {
		return fail(fmt.Errorf("%s: the store does not keep article histories", name))
	}
	a, err := h.Get(ctx, id)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", name, err))
	}
	aliases, err := h.Aliases(ctx, id)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", name, err))
	}
	revs, err := h.Revisions(ctx, id)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", name, err))
	}
	return a, aliases, revs, nil
}

// cmdShow runs `articles show ID`: one article, its addresses and
// versions, and its text.
func cmdShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("articles show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var r readerFlags
	r.register(e)
	a, aliases, revs, err := openHistory(ctx, "articles show", fs, e, &r, args)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	fmt.Fprintf(w, "id:        %s\ntitle:     %s\nurl:       %s\nfeed:      %s\npublished: %s\nversion:   %d (%d earlier)\n",
		a.ID, oneLine(a.Title), a.URL, a.Feed, when(a.Published), len(revs)+1, len(revs))
	if len(aliases) > 0 {
		fmt.Fprintln(w, "seen under:")
		for _, al := range aliases {
			fmt.Fprintf(w, "  %s  %s\n", when(al.FirstSeen), al.URL)
		}
	}
	if len(revs) > 0 {
		fmt.Fprintln(w, "revisions:")
		for _, rv := range revs {
			fmt.Fprintf(w, "  %d  %s – %s  %d words  %s\n", rv.Rev, when(rv.SeenFrom), when(rv.SeenUntil),
				rv.Article.WordCount, oneLine(rv.Article.Title))
		}
	}
	fmt.Fprintf(w, "\n%s\n", a.Text)
	return w.Flush()
}

// cmdRevisions runs `articles revisions ID`: how each version of an
// article differs from the next.
func cmdRevisions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("articles revisions", flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var r readerFlags
	r.register(e)
	diff := fs.String("diff", "unified", "how text changes are shown: unified (lines) or words ([-deleted-] {+added+})")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *diff != "unified" && *diff != "words" {
		e.errs = append(e.errs, fmt.Errorf("--diff: %q is not unified or words", *diff))
	}
	a, _, revs, err := openHistory(ctx, "articles revisions", fs, e, &r, fs.Args())
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	if len(revs) == 0 {
		fmt.Fprintf(w, "%s has one version: no revisions\n", a.ID)
		return w.Flush()
	}
	for i, rv := range revs {
		next, label := a, " (current)"
		if i+1 < len(revs) {
			next, label = revs[i+1].Article, ""
		}
		fmt.Fprintf(w, "rev %d -> rev %d%s, seen from %s\n", rv.Rev, rv.Rev+1, label, when(rv.SeenUntil))
		if rv.Article.Title != next.Title {
			fmt.Fprintf(w, "title: %s\n", textdiff.Words(rv.Article.Title, next.Title))
		}
		switch {
		case rv.Article.Text == next.Text:
			fmt.Fprintln(w, "text: unchanged")
		case *diff == "words":
			fmt.Fprintf(w, "%s\n", textdiff.Words(rv.Article.Text, next.Text))
		default:
			fmt.Fprint(w, textdiff.Unified(rv.Article.Text, next.Text, fmt.Sprintf("rev %d", rv.Rev), fmt.Sprintf("rev %d", rv.Rev+1)))
		}
		fmt.Fprintln(w)
	}
	return w.Flush()
}

// when shows a time in UTC to the second, "-" if unknown.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}
