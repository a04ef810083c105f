package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/newsflow/newsflow/ingest/fault"
)

func TestDecodeNewerSchemaWaits(t *testing.T) {
	_, err := Decode([]byte(`{"schema_version": 99, "id": "n1", "title": "From the future"}`))
	// Deferred, not temporary: a temporary error pauses the whole store as
	// if the database were down, holding back every record behind it.
	var d *DeferredError
	if !errors.As(err, &d) || d.ID != "n1" || fault.IsTemporary(err) || fault.IsPermanent(err) || !strings.Contains(err.Error(), "schema_version 99") {
		t.Errorf("Decode of a newer record = %v, want a deferred (neither temporary nor permanent) error naming the id and version", err)
	}
}

func TestDecode(t *testing.T) {
	good, err := json.Marshal(sampleArticle("dec", 1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		data    string
		wantID  string
		field   string // "" when the article is valid
		wantErr string
	}{
		{"valid", string(good), "dec", "", ""},
		{"not JSON", `{"id": "x1", "title": `, "", "record", "bad JSON"},
		{"wrong type", `{"id": "x2", "word_count": "many"}`, "x2", "word_count", "bad JSON"},
		{"wrong type before id", `{"word_count": "many", "id": "x3"}`, "x3", "word_count", "bad JSON"},
		{"nested wrong type", `{"id": "x4", "feed_item": {"authors": "one"}}`, "x4", "feed_item.authors", "bad JSON"},
		{"array", `[1, 2]`, "", "record", "bad JSON"},
		{"no id", `{"title": "Nameless"}`, "", "id", "empty"},
		{"NUL escape", `{"id": "x5", "text": "a\u0000b"}`, "x5", "text", "NUL"},
		{"bad fingerprint", `{"id": "x6", "fingerprint": "0x12"}`, "x6", "fingerprint", "16 hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := Decode([]byte(tt.data))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if a.ID != tt.wantID {
					t.Errorf("ID = %q, want %q", a.ID, tt.wantID)
				}
				return
			}
			var ia *InvalidArticleError
			if !errors.As(err, &ia) {
				t.Fatalf("Decode error = %v, want *InvalidArticleError", err)
			}
			if ia.ID != tt.wantID || ia.Field != tt.field || ia.Index != -1 {
				t.Errorf("invalid = id %q field %q index %d, want id %q field %q index -1", ia.ID, ia.Field, ia.Index, tt.wantID, tt.field)
			}
			if !fault.IsPermanent(err) || fault.IsTemporary(err) {
				t.Errorf("error %v is not permanent only", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not say %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateValid(t *testing.T) {
	a := sampleArticle("ok", 0)
	if err := Validate(a); err != nil {
		t.Errorf("Validate(sample) = %v", err)
	}
	a.Fingerprint = strings.ToUpper(a.Fingerprint)
	if err := Validate(a); err != nil {
		t.Errorf("Validate(upper-case fingerprint) = %v", err)
	}
}

func TestBands(t *testing.T) {
	tests := []struct {
		fp   uint64
		want [bandCount]int64
	}{
		{0, [4]int64{0, 0, 0, 0}},
		{0x0123456789abcdef, [4]int64{0x0123, 0x4567, 0x89ab, 0xcdef}},
		{^uint64(0), [4]int64{0xffff, 0xffff, 0xffff, 0xffff}},
	}
	for _, tt := range tests {
		if got := bands(tt.fp); got != tt.want {
			t.Errorf("bands(%016x) = %x, want %x", tt.fp, got, tt.want)
		}
	}
	// Within distance 3, at least one band is shared (the property the
	// candidate lookup relies on), for flips anywhere.
	const fp = uint64(0xdeadbeefcafef00d)
	for i := range 64 {
		for j := i; j < 64; j++ {
			for k := j; k < 64; k++ {
				other := fp ^ 1<<i ^ 1<<j ^ 1<<k
				a, b := bands(fp), bands(other)
				shared := false
				for n := range bandCount {
					shared = shared || a[n] == b[n]
				}
				if !shared {
					t.Fatalf("%016x and %016x (distance %d) share no band", fp, other, hamming(fp, other))
				}
			}
		}
	}
}

// FuzzDecode checks that Decode never panics, that what it accepts passes
// Validate and survives re-encoding unchanged, and that what it rejects is
// a permanent *InvalidArticleError.
func FuzzDecode(f *testing.F) {
	// Small seeds: minimizing a large one stalls the fuzzer for minutes.
	for _, seed := range []string{
		`{"id":"f1","title":"Ferry","authors":["A"],"published":"2026-01-02T03:04:05Z","fingerprint":"0123456789abcdef","feed_item":{"guid":"g"},"dateline":{"place":"P"}}`,
		`{}`, `{"id":"a"}`, `{"id":"a","fingerprint":"00000000000000zz"}`,
		`{"id":"a","published":"10000-01-01T00:00:00Z"}`, `{"id":"\u0000"}`, `null`, `"x"`,
		`{"id":"a","feed_item":{"authors":["\ud800"]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data)
		if err != nil {
			if !fault.IsPermanent(err) {
				t.Fatalf("rejection %v is not permanent", err)
			}
			if len(InvalidArticles(err)) != 1 {
				t.Fatalf("rejection %v has no *InvalidArticleError", err)
			}
			return
		}
		if err := Validate(a); err != nil {
			t.Fatalf("Decode accepted what Validate rejects: %v", err)
		}
		once, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("accepted article does not encode: %v", err)
		}
		b, err := Decode(once)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", once, err)
		}
		twice, _ := json.Marshal(b)
		if string(once) != string(twice) {
			t.Fatalf("not stable:\n%s\n%s", once, twice)
		}
	})
}
