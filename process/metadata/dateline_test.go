package metadata

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseDateline(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		in   string
		want Dateline
	}{
		{"WASHINGTON (UrduPoint News / Sputnik - 22nd July, 2019) Chinese communications company Huawei secretly helped ...",
			Dateline{Place: "WASHINGTON", Sources: []string{"UrduPoint News", "Sputnik"}, Date: day(2019, 7, 22)}},
		{"LONDON (Reuters) - Britain's economy grew faster than expected.", Dateline{Place: "LONDON", Sources: []string{"Reuters"}}},
		{"PARIS, March 3 (AFP) - The strikes went on for a third day.", Dateline{Place: "PARIS", Sources: []string{"AFP"}}},
		{"PARIS, March 3, 2021 (AFP) - The strikes went on.", Dateline{Place: "PARIS", Sources: []string{"AFP"}, Date: day(2021, 3, 3)}},
		{"NEW YORK — Stocks fell on Monday.", Dateline{Place: "NEW YORK"}},
		{"BERLIN, 12. März (dpa) - Die Bahn streikt.", Dateline{Place: "BERLIN", Sources: []string{"dpa"}}},
		{"SAN FRANCISCO, Calif. (AP) -- A small quake shook the bay.", Dateline{Place: "SAN FRANCISCO, Calif.", Sources: []string{"AP"}}},
		{"Washington (CNN) — The Senate voted late on Tuesday.", Dateline{Place: "Washington", Sources: []string{"CNN"}}},
		{"KYIV (Reuters and AP) - Sirens sounded.", Dateline{Place: "KYIV", Sources: []string{"Reuters", "AP"}}},
		{"JAKARTA, KOMPAS.com - The minister said the plan was ready.", Dateline{Place: "JAKARTA", Sources: []string{"KOMPAS.com"}}},
		{"Hamburg (dpa) - Der Hafen meldet Rekorde.", Dateline{Place: "Hamburg", Sources: []string{"dpa"}}},
	}
	for _, tt := range tests {
		got, ok := ParseDateline(tt.in)
		if !ok {
			t.Errorf("ParseDateline(%q) found none, want %+v", tt.in, tt.want)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseDateline(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseDatelineRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"The council met on Tuesday (as it does every week) - and nothing happened.",
		"I think (and so do others) that the plan is fine.",
		"NASA said on Monday that the launch was delayed.",
		"A - B testing is common.",
		"US officials (speaking anonymously) said it was over.",
		"Chinese communications company Huawei secretly helped the North Korean government.",
		"BREAKING: markets fall",
		"COVID-19 cases (2,345 new) rose again.",
		"Paris is lovely in spring - everyone says so.",
		"Rostow (Russland) - Bei einem Brand starben fünf Menschen.",
	} {
		if got, ok := ParseDateline(in); ok {
			t.Errorf("ParseDateline(%q) = %+v, want none", in, got)
		}
	}
}

// FuzzParseDateline checks that ParseDateline never panics and that a
// dateline it finds has a place.
func FuzzParseDateline(f *testing.F) {
	for _, s := range []string{"WASHINGTON (UrduPoint News / Sputnik - 22nd July, 2019) Chinese", "LONDON (Reuters) - x",
		"PARIS, March 3 (AFP) - x", "NEW YORK — x", "BERLIN, 12. März (dpa) - x", "A (", "X, Y (", "ÄÖ (a/b/c - 1) z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDateline(s)
		if ok && d.Place == "" {
			t.Fatalf("ParseDateline(%q) = %+v with no place", s, d)
		}
	})
}

func TestParseDatelineNotPlaces(t *testing.T) {
	for _, in := range []string{"UPDATE - The road has reopened.", "EXCLUSIVE — A leaked memo shows the plan."} {
		if got, ok := ParseDateline(in); ok {
			t.Errorf("ParseDateline(%q) = %+v, want none", in, got)
		}
	}
}

// TestParseDatelineGolden reads one paragraph a line from
// testdata/datelines.txt and compares what ParseDateline makes of each
// with testdata/golden/datelines.json.
func TestParseDatelineGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "datelines.txt"))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		Paragraph string   `json:"paragraph"`
		Found     bool     `json:"found"`
		Place     string   `json:"place,omitempty"`
		Sources   []string `json:"sources,omitempty"`
		Date      string   `json:"date,omitempty"`
	}
	var got []result
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		d, ok := ParseDateline(line)
		r := result{Paragraph: line, Found: ok, Place: d.Place, Sources: d.Sources}
		if !d.Date.IsZero() {
			r.Date = d.Date.Format(time.DateOnly)
		}
		got = append(got, r)
	}
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	gpath := filepath.Join("testdata", "golden", "datelines.json")
	if *update {
		if err := os.WriteFile(gpath, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(gpath)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("datelines differ from %s\ngot:\n%s", gpath, out)
	}
}
