package process

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"

	"github.com/newsflow/newsflow/ingest"
)

const story = "Der Bäcker am Marktplatz öffnet früher — ab fünf Uhr gibt es Brötchen."

func TestDecodeUTF8(t *testing.T) {
	latin1, err := charmap.Windows1252.NewEncoder().String(story)
	if err != nil {
		t.Fatal(err)
	}
	sjis, err := japanese.ShiftJIS.NewEncoder().String("駅前の図書館が日曜日も開館します。")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ctype string
		body        string
		want        string
	}{
		{"utf-8 undeclared", "", "<p>" + story + "</p>", story},
		{"header charset", "text/html; charset=windows-1252", "<p>" + latin1 + "</p>", story},
		{"meta charset", "text/html", `<meta charset="windows-1252"><p>` + latin1 + "</p>", story},
		{"meta http-equiv", "", `<meta http-equiv="Content-Type" content="text/html; charset=shift_jis"><p>` + sjis + "</p>", "駅前の図書館が日曜日も開館します。"},
		{"xml prolog", "", `<?xml version="1.0" encoding="ISO-8859-1"?><html><p>` + latin1 + "</p></html>", story},
		{"bom beats meta", "", "\xef\xbb\xbf<meta charset=\"windows-1252\"><p>" + story + "</p>", story},
		{"header beats a stale prolog", "text/html; charset=utf-8", `<?xml version="1.0" encoding="ISO-8859-1"?><p>` + story + "</p>", story},
		{"prolog claiming utf-16", "", `<?xml version="1.0" encoding="UTF-16"?><p>` + story + "</p>", story},
		{"undeclared latin-1 bytes", "", "<p>" + latin1 + "</p>", story},
		{"invalid utf-8 repaired", "text/html; charset=utf-8", "<p>caf\xe9 " + story + "</p>", "caf\uFFFD " + story},
		{"utf-8 read as latin-1 and written again", "text/html; charset=utf-8", "<title>A DIY Investor\u00e2\u0080\u0099s Guide \u00e2\u0080\u0093 caf\u00c3\u00a9 \u00a9 2025</title>", "A DIY Investor’s Guide – café © 2025"},
		{"latin-1 letters without c1 kept", "text/html; charset=utf-8", "<p>\u00c3\u00a9t\u00e9 " + story + "</p>", "\u00c3\u00a9t\u00e9 " + story},
		{"utf-16le without bom", "text/html; charset=utf-8", utf16le("<p>" + story + "</p>"), story},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeUTF8([]byte(tt.body), tt.ctype)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(got), tt.want) {
				t.Errorf("decoded to %q, want it to contain %q", got, tt.want)
			}
			streamed, err := io.ReadAll(utf8Reader([]byte(tt.body), tt.ctype))
			if err != nil || !bytes.Equal(streamed, got) {
				t.Errorf("utf8Reader read %q, %v; DecodeUTF8 gave %q", streamed, err, got)
			}
		})
	}
}

func utf16le(s string) string {
	b, err := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().String(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestSimHashNearDuplicates(t *testing.T) {
	a := `The council agreed on Tuesday to close the market square to cars on Saturdays from the first of May,
after a trial last summer drew more shoppers to the stalls and fewer complaints than expected. Traders had
been split before the trial: some feared that customers who drive in from the villages would stay away,
others argued that a square full of parked cars had never been good for business. In the end the count
of visitors rose by a fifth over the eight weeks, and most of the traders who answered the council's
survey asked for the closure to continue. Delivery vans will still be allowed in before eight in the
morning, and the two disabled parking bays on the north side will stay open throughout the day. The
council will review the scheme again in the autumn, when it also plans to decide whether the Sunday
flea market can move from the school yard to the square.`
	b := strings.Replace(a, "Tuesday", "Wednesday", 1)
	c := `Heavy snow closed the mountain pass for the third time this winter, and the road authority said it
would stay shut until the avalanche risk had been assessed by a team from the valley. Drivers were sent
back at the barrier below the first hairpin, and the bus to the upper villages turned around at the
station. Families in the two hamlets above the pass have enough supplies for a week, the mayor said.`
	dist := func(x, y string) int { return bits.OnesCount64(SimHash(x) ^ SimHash(y)) }
	if d := dist(a, b); d > 6 {
		t.Errorf("one changed word moved the fingerprint by %d bits", d)
	}
	if d := dist(a, strings.ToUpper(a)); d != 0 {
		t.Errorf("case changed the fingerprint by %d bits", d)
	}
	if d := dist(a, c); d < 16 {
		t.Errorf("unrelated texts are only %d bits apart", d)
	}
}

type recorder struct{ got []Article }

func (r *recorder) PublishArticle(_ context.Context, a Article) error {
	r.got = append(r.got, a)
	return nil
}

func rawFixture(t *testing.T) ingest.RawArticle {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "ferry.html"))
	if err != nil {
		t.Fatal(err)
	}
	return ingest.RawArticle{
		SchemaVersion: ingest.RawSchemaVersion, ID: "item-1", Feed: "harbour-news-1a2b", FeedURL: "https://harbour.example/feed.xml",
		URL: "https://harbour.example/2026/ferry?utm_source=rss", Status: 200,
		Header: map[string][]string{"Content-Type": {"text/html; charset=utf-8"}},
		Body:   body, FetchedAt: time.Date(2026, 4, 2, 6, 0, 0, 0, time.UTC),
		Item: ingest.FeedItem{GUID: "ferry-77", Title: "Night ferry returns", Published: time.Date(2026, 4, 1, 22, 0, 0, 0, time.UTC)},
	}
}

func TestWorkerHandle(t *testing.T) {
	raw := rawFixture(t)
	data := encodeRaw(t, raw)
	rec := &recorder{}
	if err := NewWorker(rec).Handle(t.Context(), data); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 {
		t.Fatalf("published %d records, want 1", len(rec.got))
	}
	a := rec.got[0]
	if a.URL != "https://harbour.example/2026/ferry" || a.ID != ArticleID(a.URL) {
		t.Errorf("url %q id %q: want the canonical URL and its id", a.URL, a.ID)
	}
	if a.Link != raw.URL || a.Feed != raw.Feed || a.FeedURL != raw.FeedURL || a.Item == nil || a.Item.GUID != "ferry-77" {
		t.Errorf("feed fields not carried: link %q feed %q feed_url %q item %+v", a.Link, a.Feed, a.FeedURL, a.Item)
	}
	if !strings.Contains(a.Text, "The night ferry to the outer islands") || strings.Contains(a.Text, "Subscribe") {
		t.Errorf("text = %q", a.Text)
	}
	if a.WordCount == 0 || a.ContentHash == "" || a.Fingerprint == "" || a.ExtractorVersion != ExtractorVersion {
		t.Errorf("derived fields missing: %+v", a)
	}
}

// TestWorkerReadsSchema1: a page stored before schema 2 (JSON with the body
// in base64), as a replay of an old stream reads it, makes the same record.
func TestWorkerReadsSchema1(t *testing.T) {
	raw := rawFixture(t)
	v1 := raw
	v1.SchemaVersion = 1
	var recs []Article
	for _, data := range [][]byte{mustJSON(v1), encodeRaw(t, raw)} {
		rec := &recorder{}
		if err := NewWorker(rec).Handle(t.Context(), data); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec.got...)
	}
	if len(recs) != 2 || !bytes.Equal(mustJSON(recs[0]), mustJSON(recs[1])) {
		t.Fatalf("schema 1 and schema 2 of one page made different records:\n%s\n%s", mustJSON(recs[0]), mustJSON(recs[1]))
	}
}

func TestWorkerParksWhatCannotWork(t *testing.T) {
	notFound := rawFixture(t)
	notFound.Status = 404
	failed := rawFixture(t)
	failed.Status, failed.Body = 0, nil
	failed.FetchError = "dial tcp: connection refused"
	empty := rawFixture(t)
	empty.Body = []byte("<html><body><nav>Home</nav></body></html>")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not json", []byte("{not json"), "decode raw article"},
		{"http 404", encodeRaw(t, notFound), "HTTP 404"},
		{"fetch error", encodeRaw(t, failed), "connection refused"},
		{"schema 1 fetch error", mustJSON(map[string]any{"schema_version": 1, "id": "old", "url": "https://harbour.example/gone",
			"header": map[string][]string{"Newsflow-Fetch-Error": {"HTTP 410 Gone"}}}), "HTTP 410 Gone"},
		{"no text", encodeRaw(t, empty), ErrNoContent.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			err := NewWorker(rec).Handle(t.Context(), tt.data)
			var perm *PermanentError
			if !errors.As(err, &perm) {
				t.Fatalf("Handle = %v, want a PermanentError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if len(rec.got) != 0 {
				t.Errorf("published %d records for bad input", len(rec.got))
			}
		})
	}
}

func TestWorkerBudget(t *testing.T) {
	raw := rawFixture(t)
	var b strings.Builder
	b.WriteString("<html><body><article>")
	for range 20000 {
		b.WriteString("<p>A paragraph of a very long page that takes a while to read.</p>")
	}
	b.WriteString("</article></body></html>")
	raw.Body = []byte(b.String())
	w := &Worker{pub: &recorder{}, budget: time.Millisecond}
	err := w.Handle(t.Context(), encodeRaw(t, raw))
	var perm *PermanentError
	if !errors.As(err, &perm) || !errors.Is(err, ErrBudget) {
		t.Fatalf("Handle = %v, want a permanent ErrBudget", err)
	}
}

// TestFromRawStopsWithItsContext: the budget's context reaches extraction,
// so a page given up is not extracted on in the background.
func TestFromRawStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := FromRaw(ctx, rawFixture(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("FromRaw with an expired context = %v, want its deadline error", err)
	}
}

func TestWorkerWaitsForNewerSchema(t *testing.T) {
	newer := fmt.Appendf(nil, `{"schema_version":%d,"id":"from-the-future","body_bytes":4}`+"\n<p/>", ingest.RawSchemaVersion+1)
	err := NewWorker(&recorder{}).Handle(t.Context(), newer)
	var deferred *DeferredError
	if !errors.As(err, &deferred) || !errors.Is(err, ingest.ErrNewerRawSchema) || !strings.Contains(err.Error(), fmt.Sprintf("schema_version %d", ingest.RawSchemaVersion+1)) {
		t.Fatalf("Handle = %v, want a DeferredError naming the schema version", err)
	}
}

// TestWorkerSiteHeaderIsNotAFetchError: a page whose site sends the header
// in which schema 1 carried fetch errors is processed like any other.
func TestWorkerSiteHeaderIsNotAFetchError(t *testing.T) {
	raw := rawFixture(t)
	raw.Header["Newsflow-Fetch-Error"] = []string{"park this page"}
	rec := &recorder{}
	if err := NewWorker(rec).Handle(t.Context(), encodeRaw(t, raw)); err != nil {
		t.Fatalf("Handle = %v, want the page processed", err)
	}
	if len(rec.got) != 1 || !strings.Contains(rec.got[0].Text, "The night ferry to the outer islands") {
		t.Fatalf("published %+v", rec.got)
	}
}

func TestArticleCodec(t *testing.T) {
	a, err := FromRaw(t.Context(), rawFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeArticle(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeArticle(data)
	if err != nil || !reflect.DeepEqual(mustJSON(got), mustJSON(a)) {
		t.Fatalf("DecodeArticle(EncodeArticle(a)) = %+v, %v", got, err)
	}
	_, err = DecodeArticle([]byte(`{"schema_version":99,"id":"x"}`))
	if !errors.Is(err, ErrNewerArticleSchema) || !strings.Contains(err.Error(), "schema_version 99") {
		t.Errorf("newer record: %v, want ErrNewerArticleSchema naming the version", err)
	}
	if _, err := DecodeArticle([]byte(`{"id":`)); err == nil || errors.Is(err, ErrNewerArticleSchema) {
		t.Errorf("bad JSON: %v", err)
	}
}

func encodeRaw(t testing.TB, a ingest.RawArticle) []byte {
	t.Helper()
	data, err := ingest.EncodeRaw(a)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestSeed compares the record of the project's seed story with what it
// should become. The seed lives outside the repository: set NEWSFLOW_SEED
// to its folder (../shared/fixtures/seed).
func TestSeed(t *testing.T) {
	dir := os.Getenv("NEWSFLOW_SEED")
	if dir == "" {
		t.Skip("set NEWSFLOW_SEED to the seed fixture's folder")
	}
	body, err := os.ReadFile(filepath.Join(dir, "article.html"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	a, err := Extract(Page{Body: body})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(mustJSON(a), &got)
	for k, v := range want {
		switch k {
		case "notes":
		case "text_paragraphs":
			paras := strings.Split(a.Text, "\n\n")
			if !reflect.DeepEqual(mustJSON(paras), mustJSON(v)) {
				t.Errorf("paragraphs:\n got %q\nwant %q", paras, v)
			}
		case "must_not_contain":
			for _, s := range v.([]any) {
				if strings.Contains(a.Text, s.(string)) {
					t.Errorf("text contains %q", s)
				}
			}
		default:
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
	}
}

func FuzzExtract(f *testing.F) {
	body, err := os.ReadFile(filepath.Join("testdata", "ferry.html"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body, "text/html; charset=utf-8")
	f.Add([]byte(`<?xml version="1.0" encoding="latin1"?><p>caf\xe9</p>`), "")
	f.Add([]byte("<meta charset=shift_jis><p>\x82\xa0</p>"), "text/html")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		a, err := Extract(Page{URL: "https://example.org/a", Body: body, ContentType: ctype})
		if errors.Is(err, ErrNotHTML) {
			return
		}
		if err != nil && !errors.Is(err, ErrNoContent) {
			t.Fatalf("Extract failed: %v", err)
		}
		if err == nil && (a.Text == "" || a.ID == "") {
			t.Fatalf("record without text or id: %+v", a)
		}
		for _, u := range []string{a.URL, a.Link, a.Image} {
			if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("URL field %q is not http(s)", u)
			}
		}
	})
}

// OnExtract is told how long each extraction took, a failed one too.
func TestWorkerOnExtract(t *testing.T) {
	var calls atomic.Int64
	w := NewWorker(&recorder{})
	w.OnExtract = func(d time.Duration) {
		if d < 0 {
			t.Errorf("extraction took %s", d)
		}
		calls.Add(1)
	}
	raw := ingest.RawArticle{ID: "x", URL: "https://example.com/a", FetchError: "connection refused"}
	w.Handle(t.Context(), encodeRaw(t, raw))
	w.Handle(t.Context(), []byte("not json"))
	if calls.Load() != 1 {
		t.Errorf("OnExtract called %d times, want 1 (a payload that does not decode is not extracted)", calls.Load())
	}
}

func TestFromRawAliases(t *testing.T) {
	body := `<html lang="en"><head><title>Pier closes</title>
<link rel="canonical" href="https://harbour.example/2026/pier-closes">
<link rel="amphtml" href="/2026/pier-closes/amp"></head>
<body><article><h1>Pier closes</h1><p>The north pier closes for repairs on Monday, the harbour master said in a notice on the quay.</p></article></body></html>`
	raw := ingest.RawArticle{SchemaVersion: ingest.RawSchemaVersion, ID: "pier-1", Feed: "harbour",
		URL:      "https://harbour.example/p/77?utm_source=rss#top",
		FinalURL: "https://harbour.example/2026/pier-closes?fbclid=x",
		Status:   200, Header: map[string][]string{"Content-Type": {"text/html"}}, Body: []byte(body),
		Item: ingest.FeedItem{GUID: "https://harbour.example/?p=77", Link: "https://harbour.example/p/77?utm_source=rss"}}
	a, err := FromRaw(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if a.URL != "https://harbour.example/2026/pier-closes" {
		t.Errorf("URL = %q", a.URL)
	}
	want := []string{"https://harbour.example/2026/pier-closes/amp", "https://harbour.example/p/77", "https://harbour.example/?p=77"}
	if !slices.Equal(a.Aliases, want) {
		t.Errorf("Aliases = %q, want %q", a.Aliases, want)
	}
}

// FuzzUndoubleUTF8 checks that undoing a round of ISO-8859-1 on valid
// UTF-8 gives valid UTF-8 no longer than its input, and leaves ASCII alone.
func FuzzUndoubleUTF8(f *testing.F) {
	f.Add("Investor\u00e2\u0080\u0099s caf\u00c3\u00a9")
	f.Add("\u00c2\u0080\u00ff\u00e2\u0080")
	f.Add("plain ascii")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip()
		}
		out := undoubleUTF8([]byte(s))
		if !utf8.Valid(out) || len(out) > len(s) {
			t.Fatalf("undoubleUTF8(%q) = %q: invalid or longer", s, out)
		}
		if isASCII(s) && string(out) != s {
			t.Fatalf("undoubleUTF8 changed ASCII %q to %q", s, out)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
