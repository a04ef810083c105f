// Command feedserver serves made-up news feeds and article pages of real
// size for deploy/composetest: items appear when the test releases them
// (POST /release?n=N), spread over several feeds, each feed's pages on the
// host name of that feed (feeds-0, feeds-1... as network aliases), so that
// the fetcher's per-host limit applies as with real sites. GET /released
// lists every released page URL; GET /served counts the page requests.
package main

import (
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", ":8080", "listen address")
	feeds := flag.Int("feeds", 4, "number of feeds")
	host := flag.String("host", "feeds-%d:8080", "host:port of feed N's pages (a format with %d)")
	flag.Parse()
	s := &server{feeds: *feeds, host: *host, served: map[int]int{}}
	log.Printf("feedserver listening on %s with %d feeds", *addr, *feeds)
	log.Fatal(http.ListenAndServe(*addr, s.routes()))
}

type server struct {
	feeds int
	host  string

	mu       sync.Mutex
	released []time.Time // release time of item i
	served   map[int]int // page requests answered, by item
}

func (s *server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /release", s.release)
	mux.HandleFunc("GET /released", s.listReleased)
	mux.HandleFunc("GET /served", s.countServed)
	mux.HandleFunc("GET /feed/{n}", s.feed)
	mux.HandleFunc("GET /a/{n}", s.page)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

func (s *server) url(i int) string {
	return fmt.Sprintf("http://%s/a/%d.html", fmt.Sprintf(s.host, i%s.feeds), i)
}

func (s *server) release(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 {
		http.Error(w, "n: want a whole number", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	now := time.Now().UTC()
	for range n {
		s.released = append(s.released, now)
	}
	total := len(s.released)
	s.mu.Unlock()
	fmt.Fprintln(w, total)
}

func (s *server) listReleased(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	urls := make([]string, len(s.released))
	for i := range urls {
		urls[i] = s.url(i)
	}
	s.mu.Unlock()
	json.NewEncoder(w).Encode(urls)
}

func (s *server) countServed(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, c := range s.served {
		total += c
	}
	json.NewEncoder(w).Encode(map[string]int{"pages": len(s.served), "requests": total})
}

type rss struct {
	XMLName xml.Name `xml:"rss"`
	Version string   `xml:"version,attr"`
	Channel struct {
		Title string `xml:"title"`
		Link  string `xml:"link"`
		Items []item `xml:"item"`
	} `xml:"channel"`
}

type item struct {
	Title   string `xml:"title"`
	Link    string `xml:"link"`
	GUID    string `xml:"guid"`
	PubDate string `xml:"pubDate"`
	Desc    string `xml:"description"`
}

// feed serves feed N: every released item i with i % feeds == N, newest first.
func (s *server) feed(w http.ResponseWriter, r *http.Request) {
	f, err := strconv.Atoi(strings.TrimSuffix(r.PathValue("n"), ".xml"))
	if err != nil || f < 0 || f >= s.feeds {
		http.NotFound(w, r)
		return
	}
	var doc rss
	doc.Version = "2.0"
	doc.Channel.Title = fmt.Sprintf("Made-up wire %d", f)
	doc.Channel.Link = fmt.Sprintf("http://%s/", fmt.Sprintf(s.host, f))
	s.mu.Lock()
	for i := len(s.released) - 1; i >= 0; i-- {
		if i%s.feeds != f {
			continue
		}
		a := article(i)
		doc.Channel.Items = append(doc.Channel.Items, item{Title: a.title, Link: s.url(i), GUID: s.url(i),
			PubDate: s.released[i].Format(time.RFC1123Z), Desc: a.paras[0]})
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(doc)
}

// page serves item N's article page, if it was released.
func (s *server) page(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(strings.TrimSuffix(r.PathValue("n"), ".html"))
	s.mu.Lock()
	ok := err == nil && i >= 0 && i < len(s.released)
	var when time.Time
	if ok {
		s.served[i]++
		when = s.released[i]
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	a := article(i)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>%s | Made-up Wire</title>
<meta name="description" content="%s">
<meta property="article:published_time" content="%s">
<style>%s</style>
<script>%s</script>
</head><body>
<header class="site-header"><a href="/">Made-up Wire</a><nav><ul>`, a.title, a.paras[0][:80], when.Format(time.RFC3339), siteCSS, siteJS)
	for _, s := range []string{"World", "Business", "Science", "Culture", "Sport", "Weather", "Opinion", "Local"} {
		fmt.Fprintf(&b, `<li><a href="/section/%s">%s</a></li>`, strings.ToLower(s), s)
	}
	fmt.Fprintf(&b, `</ul></nav></header>
<main><article><h1>%s</h1><p class="byline">By %s · <time datetime="%s">%s</time></p>
`, a.title, a.author, when.Format(time.RFC3339), when.Format("2 January 2006"))
	for _, p := range a.paras {
		fmt.Fprintf(&b, "<p>%s</p>\n", p)
	}
	b.WriteString(`</article><aside class="related"><h2>More from the wire</h2><ul>`)
	for k := 1; k <= 12; k++ {
		fmt.Fprintf(&b, `<li><a href="/a/%d.html">%s</a></li>`, (i+k*7)%100000, article((i+k*7)%100000).title)
	}
	b.WriteString(`</ul></aside></main><footer><p>Made-up Wire publishes invented stories for testing.</p>`)
	b.WriteString(strings.Repeat(`<div class="ad-slot" data-slot="footer"><span>Advertisement</span></div>`, 20))
	b.WriteString("</footer></body></html>\n")
	w.Write([]byte(b.String()))
}

// siteCSS and siteJS stand for the styles and scripts real pages inline:
// about 30 KB that extraction must skip.
var (
	siteCSS = strings.Repeat(".card{margin:0 auto;padding:12px 16px;border:1px solid #ddd}.card h3{font:600 18px/1.3 serif}\n", 150)
	siteJS  = strings.Repeat("window.dataLayer=window.dataLayer||[];dataLayer.push({event:'view',section:'news'});\n", 200)
)

type story struct {
	title, author string
	paras         []string
}

var vocabulary = strings.Fields(`council river harbour school museum budget railway festival orchard
bridge library market weather storm farmers election mayor village coast hospital research students
teachers engineers volunteers residents committee report survey plan project funding museum theatre
garden bakery factory workers union strike agreement court judge appeal ruling minister parliament
province county district airport station tunnel highway cyclists drivers passengers tickets prices
harvest drought rainfall flood warning forecast scientists telescope satellite laboratory vaccine
clinic doctors nurses patients league match season coach players stadium goal victory defeat record
artists exhibition painting sculpture novel author poetry concert orchestra choir film director
startup investors shares profits losses exports imports tariff currency bank loans mortgage housing
rent tenants landlords building permit zoning heritage monument archive history ancient discovery
fossil species forest wildlife reserve rangers fishermen ferry island lighthouse mountain valley
glacier summit trail hikers rescue firefighters police officers inquiry evidence witnesses testimony
said announced warned promised argued explained confirmed denied reported suggested expected decided
new old local national regional quiet busy early late small large rapid slow careful bold modest
yesterday today morning evening weekend spring summer autumn winter north south east west central`)

var names = strings.Fields(`Ada Bram Celia Dario Elin Farid Greta Hugo Ines Jonas Kira Luca Mira Nils Olga Pavel Rosa Sami Tove Ugo Vera Wim`)

// article makes item i's story: its own title and about 900 words, drawn
// from a generator seeded with i, so that no two items look alike.
func article(i int) story {
	rng := rand.New(rand.NewPCG(uint64(i), 0x6e657773))
	word := func() string { return vocabulary[rng.IntN(len(vocabulary))] }
	sentence := func() string {
		n := 8 + rng.IntN(14)
		ws := make([]string, n)
		for k := range ws {
			ws[k] = word()
		}
		ws[0] = strings.ToUpper(ws[0][:1]) + ws[0][1:]
		return strings.Join(ws, " ") + "."
	}
	first := word()
	a := story{
		title:  fmt.Sprintf("Item %d: %s %s %s %s", i, strings.ToUpper(first[:1])+first[1:], word(), word(), word()),
		author: names[rng.IntN(len(names))] + " " + names[rng.IntN(len(names))] + "son",
	}
	for range 12 + rng.IntN(6) {
		var p []string
		for range 3 + rng.IntN(4) {
			p = append(p, sentence())
		}
		a.paras = append(a.paras, strings.Join(p, " "))
	}
	return a
}
