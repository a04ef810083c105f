package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// encodeRawV1 writes a as schema 1 did: one JSON object, the body in
// base64, the fetch error in the header map.
func encodeRawV1(t testing.TB, a RawArticle) []byte {
	t.Helper()
	a.SchemaVersion = 1
	if a.FetchError != "" {
		h := http.Header(a.Header).Clone()
		if h == nil {
			h = http.Header{}
		}
		h.Set(fetchErrorHeaderV1, a.FetchError)
		a.Header, a.FetchError = h, ""
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleRaw() RawArticle {
	return RawArticle{
		SchemaVersion: RawSchemaVersion, ID: "a1b2", Feed: "harbour-1a2b", FeedURL: "https://harbour.example/feed.xml",
		Item: FeedItem{GUID: "ferry-77", Title: "Night ferry returns", Link: "https://harbour.example/ferry",
			Authors: []string{"K. Lund"}, Published: time.Date(2026, 4, 1, 22, 0, 0, 0, time.UTC)},
		URL: "https://harbour.example/ferry?from=rss&day=1", FinalURL: "https://harbour.example/2026/ferry", Status: 200,
		Header: map[string][]string{"Content-Type": {"text/html; charset=utf-8"}},
		// Newlines, NULs and bytes that are not UTF-8 travel as they are.
		Body:      []byte("<html>\n<p>The night ferry\r\n\x00\xff\xfe returns.</p>\n</html>\n"),
		FetchedAt: time.Date(2026, 4, 2, 6, 0, 0, 0, time.UTC),
	}
}

func TestRawCodecRoundTrip(t *testing.T) {
	failed := sampleRaw()
	failed.Status, failed.Body, failed.Header = 0, nil, nil
	failed.FetchError = "fetch https://harbour.example/ferry: dial tcp: connection refused"
	for name, a := range map[string]RawArticle{"page": sampleRaw(), "fetch error": failed} {
		t.Run(name, func(t *testing.T) {
			data, err := EncodeRaw(a)
			if err != nil {
				t.Fatal(err)
			}
			head, body, ok := bytes.Cut(data, []byte("\n"))
			if !ok || !json.Valid(head) || !bytes.Equal(body, a.Body) {
				t.Fatalf("want a JSON line and the body as it is, got %q", data)
			}
			if bytes.Contains(head, []byte(`"body"`)) || !bytes.Contains(head, []byte(`"schema_version":2`)) || !bytes.Contains(head, []byte("from=rss&day=1")) {
				t.Errorf("header line %s: want schema_version 2, no body field, the URL as it reads", head)
			}
			for _, enc := range []struct {
				name string
				data []byte
			}{{"schema 2", data}, {"schema 1", encodeRawV1(t, a)}} {
				got, err := DecodeRaw(enc.data)
				if err != nil {
					t.Fatalf("%s: %v", enc.name, err)
				}
				if !reflect.DeepEqual(got, a) {
					t.Errorf("%s decoded to\n%+v\nwant\n%+v", enc.name, got, a)
				}
			}
		})
	}
}

// TestDecodeRawSchema1File decodes a message as the schema 1 fetcher wrote
// it (testdata/raw/v1-fetch-error.json): a replay of an old stream.
func TestDecodeRawSchema1File(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "raw", "v1-fetch-error.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := DecodeRaw(data)
	if err != nil {
		t.Fatal(err)
	}
	if a.SchemaVersion != RawSchemaVersion || a.ID != "5c1e" || a.Status != 404 || string(a.Body) != "<h1>Gone</h1>" {
		t.Errorf("decoded %+v", a)
	}
	if !strings.Contains(a.FetchError, "HTTP 404") || http.Header(a.Header).Get(fetchErrorHeaderV1) != "" ||
		http.Header(a.Header).Get("Content-Type") != "text/html" {
		t.Errorf("schema 1 fetch error not moved to FetchError: %q, header %v", a.FetchError, a.Header)
	}
}

// TestDecodeRawSiteHeader: in schema 2 a response header named like
// schema 1's fetch error is the site's, not a fetch error.
func TestDecodeRawSiteHeader(t *testing.T) {
	a := sampleRaw()
	a.Header = map[string][]string{"Newsflow-Fetch-Error": {"park me"}}
	data, err := EncodeRaw(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRaw(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.FetchError != "" || http.Header(got.Header).Get("Newsflow-Fetch-Error") != "park me" {
		t.Errorf("FetchError %q header %v: the site's header must stay a header", got.FetchError, got.Header)
	}
}

func TestDecodeRawErrors(t *testing.T) {
	good, err := EncodeRaw(sampleRaw())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		data  string
		want  string
		newer bool
	}{
		{"empty", "", "decode raw article", false},
		{"not json", "<html>hello</html>", "decode raw article", false},
		{"no version", `{"id":"x","url":"https://a.example/"}`, "schema_version 0 is not a version", false},
		{"newer", `{"schema_version":3,"id":"x"}` + "\nbody", "schema_version 3, this build reads up to 2", true},
		{"newer schema 1 style", `{"schema_version":9,"id":"x"}`, "schema_version 9", true},
		{"cut body", string(good[:len(good)-3]), "header says", false},
		{"schema 2 without body line", `{"schema_version":2,"id":"x","body_bytes":0}`, "without a body line", false},
		{"schema 2 without body_bytes", `{"schema_version":2,"id":"x"}` + "\n", "without a body line and body_bytes", false},
		{"schema 1 with a tail", `{"schema_version":1,"id":"x"}` + "\nmore", "data after its JSON object", false},
		{"bad header line", `{"schema_version":2,` + "\n<html>", "header line", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRaw([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeRaw = %v, want an error saying %q", err, tt.want)
			}
			if errors.Is(err, ErrNewerRawSchema) != tt.newer {
				t.Errorf("errors.Is(ErrNewerRawSchema) = %v, want %v", !tt.newer, tt.newer)
			}
		})
	}
}

// TestDecodeRawSchema1MultiLine reads a schema 1 message written by hand
// over several lines.
func TestDecodeRawSchema1MultiLine(t *testing.T) {
	a, err := DecodeRaw([]byte("{\n  \"schema_version\": 1,\n  \"id\": \"x\",\n  \"body\": \"PHA+aGk8L3A+\"\n}\n"))
	if err != nil || string(a.Body) != "<p>hi</p>" {
		t.Fatalf("DecodeRaw = %+v, %v", a, err)
	}
}

func FuzzDecodeRaw(f *testing.F) {
	a := sampleRaw()
	v2, err := EncodeRaw(a)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v2)
	f.Add(encodeRawV1(f, a))
	f.Add([]byte(`{"schema_version":2,"body_bytes":2}` + "\n\n\n"))
	f.Add([]byte(`{"schema_version":1,"header":{"Newsflow-Fetch-Error":["x"]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := DecodeRaw(data)
		if err != nil {
			return
		}
		if a.SchemaVersion != RawSchemaVersion {
			t.Fatalf("decoded schema_version %d", a.SchemaVersion)
		}
		// What decodes encodes again to the same article.
		again, err := EncodeRaw(a)
		if err != nil {
			t.Fatalf("EncodeRaw of a decoded article: %v", err)
		}
		b, err := DecodeRaw(again)
		if err != nil {
			t.Fatalf("DecodeRaw of EncodeRaw: %v\n%q", err, again)
		}
		if twice, _ := EncodeRaw(b); !bytes.Equal(twice, again) {
			t.Fatalf("round trip changed the article:\n%q\n%q", again, twice)
		}
	})
}

// BenchmarkRawCodec encodes and decodes one page of about 178 KB (the
// benchmark pages' average) in schema 1 (JSON, base64 body) and schema 2
// (JSON header line, raw body) in the same run, and reports schema 1's time
// and size as multiples of schema 2's:
//
//	go test -run '^$' -bench RawCodec ./ingest/
func BenchmarkRawCodec(b *testing.B) {
	a := sampleRaw()
	a.Body = bytes.Repeat([]byte("<p>The night ferry to the outer islands returns on Friday, after a winter of repairs.</p>\n"), 178<<10/91)
	var t1, t2 time.Duration
	var n1, n2 int
	for b.Loop() {
		start := time.Now()
		data := encodeRawV1(b, a)
		if _, err := DecodeRaw(data); err != nil {
			b.Fatal(err)
		}
		t1 += time.Since(start)
		n1 = len(data)
		start = time.Now()
		data, err := EncodeRaw(a)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeRaw(data); err != nil {
			b.Fatal(err)
		}
		t2 += time.Since(start)
		n2 = len(data)
	}
	b.ReportMetric(float64(t1)/float64(t2), "v1/v2-time")
	b.ReportMetric(float64(n1)/float64(n2), "v1/v2-bytes")
	b.ReportMetric(float64(t2.Nanoseconds())/float64(b.N), "v2-ns/op")
	b.ReportMetric(float64(t1.Nanoseconds())/float64(b.N), "v1-ns/op")
}
