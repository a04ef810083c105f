package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsflow/newsflow/process"
)

// benchCorpus makes up news articles of about 500 words from a vocabulary
// of 20,000 invented words drawn with a Zipf law, as natural text is.
type benchCorpus struct {
	r     *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

func newBenchCorpus(seed uint64) *benchCorpus {
	r := rand.New(rand.NewPCG(seed, 99))
	syllables := strings.Fields("ka to ri mu sen da lo vi ne por tal gri fen ash mon del quo bra ust ine")
	c := &benchCorpus{r: r, zipf: rand.NewZipf(r, 1.1, 2, 19999)}
	seen := map[string]bool{}
	for len(c.vocab) < 20000 {
		var w strings.Builder
		for range 1 + r.IntN(4) {
			w.WriteString(syllables[r.IntN(len(syllables))])
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			c.vocab = append(c.vocab, w.String())
		}
	}
	return c
}

func (c *benchCorpus) words(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = c.vocab[c.zipf.Uint64()]
	}
	return out
}

// article returns article i: one of 20 feeds, 3 languages, published in
// the 90 days before baseTime.
func (c *benchCorpus) article(i int) process.Article {
	a := sampleArticle(fmt.Sprintf("bench-%07d", i), i)
	a.Feed = fmt.Sprintf("feed-%02d", i%20)
	a.Language = []string{"en", "en", "de", "fr"}[i%4]
	a.SiteName = fmt.Sprintf("Site %02d", i%20)
	a.Published = baseTime.Add(-time.Duration(c.r.Int64N(int64(90 * 24 * time.Hour)))).Truncate(time.Second)
	a.Title = strings.Join(c.words(8), " ")
	a.Description = strings.Join(c.words(25), " ")
	var paras []string
	for range 10 {
		paras = append(paras, strings.Join(c.words(50), " ")+".")
	}
	a.Text = strings.Join(paras, "\n\n")
	a.HTML = "<p>" + strings.Join(paras, "</p><p>") + "</p>"
	a.WordCount = 500
	a.ContentHash = fmt.Sprintf("sha256:%016x", c.r.Uint64())
	a.Fingerprint = fmt.Sprintf("%016x", c.r.Uint64())
	return a
}

// benchArticles is the size of the search benchmark's store:
// $NEWSFLOW_BENCH_ARTICLES, 100,000 by default.
func benchArticles(b *testing.B) int {
	if v := os.Getenv("NEWSFLOW_BENCH_ARTICLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("NEWSFLOW_BENCH_ARTICLES=%q: want a number of at least 1000", v)
		}
		return n
	}
	return 100_000
}

// BenchmarkSearchSQLite fills a SQLite store with made-up articles (in
// batches of 500, as the store stage writes them, reporting its rate with
// and without the full-text index), then measures searches with filters
// and phrases: p50 and p95 in milliseconds.
//
//	go test -run '^$' -bench SearchSQLite -benchtime 100x -timeout 60m ./store/
//
// $NEWSFLOW_BENCH_KEEP=FILE keeps a copy of the filled database, and
// $NEWSFLOW_BENCH_DB=FILE searches such a copy instead of filling a new
// store (the upsert figures are then not measured).
func BenchmarkSearchSQLite(b *testing.B) {
	n := benchArticles(b)
	c := newBenchCorpus(1)
	arts := make([]process.Article, n)
	for i := range arts {
		arts[i] = c.article(i)
	}

	var s *SQLite
	if path := os.Getenv("NEWSFLOW_BENCH_DB"); path != "" {
		// A database kept by an earlier run (NEWSFLOW_BENCH_KEEP) with the
		// same articles: search it without filling a new one.
		var err error
		if s, err = OpenSQLiteReadOnly(b.Context(), path); err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if got, err := s.Count(b.Context()); err != nil || got != n {
			b.Fatalf("NEWSFLOW_BENCH_DB=%s holds %d articles (%v), want %d", path, got, err, n)
		}
	} else {
		s = fillSearchBench(b, arts)
	}

	// Phrases are two or three consecutive words of a stored text. Content
	// phrases leave out the 100 most frequent words, the part that "the",
	// "of" and "and" play in real text (8% of all words for the first
	// here); stopword phrases may hold them. Filters are the feed and
	// language of the text the phrase comes from and the 30 days before
	// it was published, so that every filtered search finds it.
	r := rand.New(rand.NewPCG(5, 6))
	rank := make(map[string]int, len(c.vocab))
	for i, w := range c.vocab {
		rank[w] = i
	}
	phraseQuery := func(content, filter bool) Query {
		for {
			src := &arts[r.IntN(n)]
			words := strings.Fields(src.Text)
			k := r.IntN(len(words) - 3)
			words = words[k : k+2+r.IntN(2)]
			for i := range words {
				words[i] = strings.Trim(words[i], ".")
			}
			if content && slices.ContainsFunc(words, func(w string) bool { return rank[w] < 100 }) {
				continue
			}
			q := Query{Q: `"` + strings.Join(words, " ") + `"`}
			if filter {
				q.Feed, q.Language, q.Since = src.Feed, src.Language, src.Published.Add(-30*24*time.Hour)
			}
			return q
		}
	}
	for _, bm := range []struct {
		name  string
		query func() Query
	}{
		{"PhraseFilters", func() Query { return phraseQuery(true, true) }},
		{"PhraseWordFilters", func() Query {
			q := phraseQuery(true, true)
			q.Q += " " + c.vocab[100+r.IntN(200)]
			return q
		}},
		{"PhraseFiltersByDate", func() Query {
			q := phraseQuery(true, true)
			q.Sort = SortPublished
			return q
		}},
		{"Phrase", func() Query { return phraseQuery(true, false) }},
		{"StopwordPhraseFilters", func() Query { return phraseQuery(false, true) }},
		{"CommonWord", func() Query { return Query{Q: c.vocab[r.IntN(10)]} }},
		{"FiltersOnly", func() Query {
			return Query{Feed: fmt.Sprintf("feed-%02d", r.IntN(20)), Language: "en", Since: baseTime.Add(-30 * 24 * time.Hour)}
		}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			var times []time.Duration
			found := 0
			for b.Loop() {
				q := bm.query()
				start := time.Now()
				p, err := s.Search(b.Context(), q)
				times = append(times, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				found += len(p.Articles)
			}
			slices.Sort(times)
			pct := func(p float64) float64 {
				return float64(times[int(p*float64(len(times)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(float64(found)/float64(len(times)), "results/op")
		})
	}
}

// fillSearchBench fills a new store with arts and reports the store
// stage's rate (the time spent in Upsert, while the index is written on
// another core) and the rate at which articles become searchable (from
// the first upsert until the index holds them all), for the first tenth.
func fillSearchBench(b *testing.B, arts []process.Article) *SQLite {
	n := len(arts)
	s := openTestSQLite(b)
	fill := func(arts []process.Article) (stored, searchable float64) {
		start := time.Now()
		var took time.Duration
		for batch := range slices.Chunk(arts, 500) {
			t0 := time.Now()
			if _, err := s.Upsert(b.Context(), batch); err != nil {
				b.Fatal(err)
			}
			took += time.Since(t0)
		}
		waitIndexed(b, s)
		return float64(len(arts)) / took.Seconds(), float64(len(arts)) / time.Since(start).Seconds()
	}
	stored, searchable := fill(arts[:n/10])
	b.Run("Upsert", func(b *testing.B) {
		b.ReportMetric(stored, "articles/s")
		b.ReportMetric(searchable, "searchable-articles/s")
	})
	restStored, restSearchable := fill(arts[n/10:])
	b.Logf("filled %d articles: stored %.0f/s and searchable %.0f/s for the first tenth, %.0f/s and %.0f/s for the rest",
		n, stored, searchable, restStored, restSearchable)
	if keep := os.Getenv("NEWSFLOW_BENCH_KEEP"); keep != "" {
		if _, err := s.w.ExecContext(b.Context(), `VACUUM INTO ?`, keep); err != nil {
			b.Fatal(err)
		}
	}

	return s
}

// waitIndexed waits until the index of s holds every stored article.
func waitIndexed(b *testing.B, s *SQLite) {
	for {
		var through, last int64
		if err := s.r.QueryRowContext(b.Context(), `SELECT (SELECT changed FROM search.progress),
			(SELECT COALESCE(MAX(changed), 0) FROM articles)`).Scan(&through, &last); err != nil {
			b.Fatal(err)
		}
		if through >= last {
			return
		}
		s.index.poke()
		time.Sleep(5 * time.Millisecond)
	}
}
