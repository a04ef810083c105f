package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/process"
)

// This file holds what the fault suite (fault_test.go) shares: a news site
// of made-up pages of realistic size, and the loss checker.

// faultItems is how many articles a fault test's site serves:
// NEWSFLOW_FAULT_ITEMS, or 40 (12 with -short).
func faultItems(t testing.TB) int {
	if v := os.Getenv("NEWSFLOW_FAULT_ITEMS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("NEWSFLOW_FAULT_ITEMS: %q is not a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return 12
	}
	return 40
}

// newsSite serves one RSS feed (/news.rss) of n articles (/news/<i>.html),
// each a made-up page of 50 to 180 KB laid out as news sites lay theirs out.
type newsSite struct {
	*httptest.Server
	n int
	// delay, in nanoseconds, is how long each page takes to serve, so that
	// a fault lands while articles are still in flight.
	delay atomic.Int64
	// served counts page responses.
	served atomic.Int64
}

func newNewsSite(t testing.TB, n int) *newsSite {
	s := &newsSite{n: n}
	mux := http.NewServeMux()
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	mux.HandleFunc("/news.rss", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, rssFeed("Riverside Courier", s.links()))
	})
	mux.HandleFunc("/news/", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/news/"), ".html"))
		if err != nil || i < 0 || i >= s.n {
			http.NotFound(w, r)
			return
		}
		time.Sleep(time.Duration(s.delay.Load()))
		s.served.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(newsPage(s.URL+r.URL.Path, i))
	})
	return s
}

// links are the article links of the feed, in feed order.
func (s *newsSite) links() []string {
	out := make([]string, s.n)
	for i := range out {
		out[i] = fmt.Sprintf("%s/news/%d.html", s.URL, i)
	}
	return out
}

// feedList writes a feed list file naming the given feeds.
func feedList(t testing.TB, feeds ...string) string {
	f := filepath.Join(t.TempDir(), "feeds.txt")
	if err := os.WriteFile(f, []byte(strings.Join(feeds, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// rssFeed is an RSS 2.0 feed of the links, each its own guid.
func rssFeed(title string, links []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>%s</title><link>http://example.invalid/</link>`+"\n", title)
	for i, l := range links {
		fmt.Fprintf(&b, "<item><title>%s story %d</title><link>%s</link><guid isPermaLink=\"true\">%s</guid><pubDate>%s</pubDate></item>\n",
			title, i, l, l, time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z))
	}
	b.WriteString("</channel></rss>")
	return b.String()
}

var (
	pageWords = strings.Fields(`council river bridge harbour ferry market school library teachers parents
		residents mayor budget museum railway station orchard farmers weather storm flood road repairs
		hospital nurses volunteers festival choir theatre season players coach league stadium rowing
		regatta quarry bats survey scientists greenhouse tomatoes beekeepers honey bakery evening morning
		afternoon week month spring summer autumn winter plans proposal vote meeting agreed delayed
		reopened closed extended announced reported said explained added expected visitors travellers
		passengers cyclists walkers drivers lorries buses trains timetable fares prices rents homes
		houses streets square park garden playground pool swimming cinema concert exhibition paintings
		history archive letters photographs memories family neighbours shop owners workers union wages
		contract tender cost estimate report inspection safety lighting benches trees hedges meadow`)
	pageNames  = strings.Fields("Anna Ben Clara David Elena Farid Grace Hugo Ines Jonas Kira Liam Mona Niko Olga Pavel")
	pageFamily = strings.Fields("Lindqvist Okafor Moreau Brennan Sato Novak Ferreira Haddad Kowalski Duarte Ibsen")
)

// newsPage is article i of a made-up news site: a head with metadata and
// the scripts and styles a real page carries, navigation, the story, a
// list of related stories and a footer; 50 to 180 KB, the same bytes for
// the same i.
func newsPage(url string, i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 6))
	word := func() string { return pageWords[r.IntN(len(pageWords))] }
	sentence := func() string {
		n := 12 + r.IntN(18)
		ws := make([]string, n)
		for k := range ws {
			ws[k] = word()
		}
		s := strings.Join(ws, " ")
		return strings.ToUpper(s[:1]) + s[1:] + "."
	}
	title := fmt.Sprintf("Story %d: %s %s %s", i, strings.ToUpper(word()[:1])+word()[1:], word(), word())
	author := pageNames[r.IntN(len(pageNames))] + " " + pageFamily[r.IntN(len(pageFamily))]
	published := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	target := 50_000 + r.IntN(130_000)

	var b bytes.Buffer
	fmt.Fprintf(&b, `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>%s | Riverside Courier</title>
<link rel="canonical" href="%s"><meta name="description" content="%s">
<meta property="og:title" content="%s"><meta property="og:site_name" content="Riverside Courier">
<meta name="author" content="%s"><meta property="article:published_time" content="%s">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":%q,"datePublished":%q,"author":{"@type":"Person","name":%q}}</script>
`, title, url, sentence(), title, author, published.Format(time.RFC3339), title, published.Format(time.RFC3339), author)
	// Inline styles and scripts: most of a real page's bytes.
	b.WriteString("<style>")
	for k := range 150 {
		fmt.Fprintf(&b, ".c%d-%d{margin:%dpx %dpx;color:#%06x;font-size:%d%%}\n", i, k, r.IntN(40), r.IntN(40), r.IntN(1<<24), 80+r.IntN(60))
	}
	b.WriteString("</style><script>window.__state={")
	for k := 0; b.Len() < target/2; k++ {
		fmt.Fprintf(&b, "%q:{\"id\":%d,\"slot\":%q,\"w\":%d,\"h\":%d,\"tag\":%q},", fmt.Sprintf("ad%d", k), r.IntN(1e9), word(), 100+r.IntN(900), 50+r.IntN(600), word())
	}
	b.WriteString("};</script></head><body><header><nav><ul>")
	for k := range 60 {
		fmt.Fprintf(&b, `<li><a href="/section/%s-%d">%s</a></li>`, word(), k, word())
	}
	fmt.Fprintf(&b, `</ul></nav></header><main><article><h1>%s</h1><p class="byline">By %s, %s</p>`, title, author, published.Format("2 January 2006"))
	for range 8 + r.IntN(12) {
		b.WriteString("<p>")
		for range 3 + r.IntN(4) {
			b.WriteString(sentence() + " ")
		}
		b.WriteString("</p>\n")
	}
	b.WriteString(`</article><aside><h2>Related stories</h2><ul>`)
	for k := 0; b.Len() < target-2000; k++ {
		fmt.Fprintf(&b, `<li class="c%d-%d"><a href="/archive/%d/%s">%s</a></li>`+"\n", i, k%150, r.IntN(1e6), word(), sentence())
	}
	b.WriteString(`</ul></aside></main><footer><p>Riverside Courier. All rights reserved. Share on Facebook. Subscribe to our newsletter.</p></footer></body></html>`)
	return b.Bytes()
}

// checkNoLoss compares what a site served with what was stored and parked:
// every link of want stored exactly once, every link of wantParked parked
// and not stored, nothing else parked. stored are the stored records' item
// links; parked, one string per parked message, are searched for the
// links. The error lists every difference.
func checkNoLoss(want, wantParked, stored, parked []string) error {
	count := map[string]int{}
	for _, l := range stored {
		count[l]++
	}
	var lost, twice, wrongStored, notParked, wrongParked []string
	for _, l := range want {
		switch count[l] {
		case 0:
			lost = append(lost, l)
		case 1:
		default:
			twice = append(twice, fmt.Sprintf("%s (%d times)", l, count[l]))
		}
	}
	isParked := func(l string) bool {
		return slices.ContainsFunc(parked, func(p string) bool { return strings.Contains(p, l) })
	}
	for _, l := range wantParked {
		if count[l] > 0 {
			wrongStored = append(wrongStored, l)
		}
		if !isParked(l) {
			notParked = append(notParked, l)
		}
	}
	for _, p := range parked {
		if !slices.ContainsFunc(wantParked, func(l string) bool { return strings.Contains(p, l) }) {
			wrongParked = append(wrongParked, p[:min(len(p), 300)])
		}
	}
	var msgs []string
	add := func(what string, ls []string) {
		if len(ls) > 0 {
			msgs = append(msgs, fmt.Sprintf("%d %s: %s", len(ls), what, strings.Join(ls, ", ")))
		}
	}
	add("lost", lost)
	add("stored more than once", twice)
	add("stored but should be parked", wrongStored)
	add("not parked", notParked)
	add("parked but should not be", wrongParked)
	if len(msgs) > 0 {
		return fmt.Errorf("%d of %d stored, %d parked:\n  %s", len(want)-len(lost), len(want), len(parked), strings.Join(msgs, "\n  "))
	}
	return nil
}

func TestCheckNoLoss(t *testing.T) {
	want := []string{"http://s/1", "http://s/2", "http://s/3"}
	for _, tt := range []struct {
		name            string
		stored, parked  []string
		wantParked, err []string
	}{
		{"all stored", []string{"http://s/1", "http://s/3", "http://s/2"}, nil, nil, nil},
		{"one lost", []string{"http://s/1", "http://s/3"}, nil, nil, []string{"1 lost: http://s/2"}},
		{"one twice", []string{"http://s/1", "http://s/2", "http://s/2", "http://s/3"}, nil, nil, []string{"http://s/2 (2 times)"}},
		{"parked as expected", want, []string{`{"url":"http://s/9"} 404`}, []string{"http://s/9"}, nil},
		{"expected parked but stored", append(want, "http://s/9"), nil, []string{"http://s/9"}, []string{"stored but should be parked: http://s/9", "not parked: http://s/9"}},
		{"parked wrongly", want, []string{"page http://s/7 no text"}, nil, []string{"parked but should not be: page http://s/7"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkNoLoss(want, tt.wantParked, tt.stored, tt.parked)
			if (err != nil) != (len(tt.err) > 0) {
				t.Fatalf("checkNoLoss = %v, want errors %q", err, tt.err)
			}
			for _, e := range tt.err {
				if !strings.Contains(err.Error(), e) {
					t.Errorf("error %q lacks %q", err, e)
				}
			}
		})
	}
}

func TestNewsPageSizeAndText(t *testing.T) {
	for i := range 20 {
		page := newsPage("https://courier.example/news/1.html", i)
		if len(page) < 50_000 || len(page) > 185_000 {
			t.Errorf("page %d is %d bytes, want 50 to 180 KB", i, len(page))
		}
		a, err := process.Extract(process.Page{URL: "https://courier.example/news/1.html", Body: page})
		if err != nil || a.WordCount < 150 || strings.Contains(a.Text, "Related stories") {
			t.Errorf("page %d: %d words, err %v", i, a.WordCount, err)
		}
	}
}

// storedLinks are the item links of the records in a database, read by
// `newsflow articles export` with args (--data DIR or --store DSN).
func storedLinks(t testing.TB, bin string, args ...string) []string {
	out, err := exec.Command(bin, append([]string{"articles", "export"}, args...)...).Output()
	if err != nil {
		return nil // not created yet
	}
	var links []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var a struct {
			Link string `json:"link"`
		}
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("export printed a line that is not an article: %v", err)
		}
		links = append(links, a.Link)
	}
	return links
}

// parkedOf lists the parked messages through `newsflow parked list` with
// args (--data DIR or --nats URL), one JSON line each.
func parkedOf(t testing.TB, bin string, args ...string) []string {
	out, err := exec.Command(bin, append([]string{"parked", "list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("parked list: %v", err)
	}
	return slices.DeleteFunc(strings.Split(string(out), "\n"), func(s string) bool { return s == "" })
}

// parkedIn lists the parked messages of a running pipeline: each its error
// and its payload, for checkNoLoss to find the links in.
func parkedIn(t testing.TB, b *bus.Bus) []string {
	var out []string
	s, err := b.JetStream().Stream(t.Context(), bus.StreamParked)
	if err != nil {
		t.Fatal(err)
	}
	err = b.EachParked(t.Context(), func(p bus.Parked) error {
		m, err := s.GetMsg(t.Context(), p.Seq)
		if err != nil {
			return err
		}
		out = append(out, p.Error+" "+string(m.Data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
