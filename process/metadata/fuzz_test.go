package metadata

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// FuzzExtract checks that Extract never panics, never modifies the
// document and returns only dates within bounds and absolute URLs.
func FuzzExtract(f *testing.F) {
	pages, _ := filepath.Glob(filepath.Join("testdata", "pages", "*.html"))
	for _, p := range pages {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`<script type="application/ld+json">{"@graph":[{"@type":["NewsArticle"],"author":[[{"name":1}]],"image":[{}]}]}</script>`))
	f.Add([]byte(`<html lang="zz-ZZ"><time datetime="9999-99-99">x</time><p class="date">31.12.1994</p>`))
	base, _ := url.Parse("https://news.example/2020/01/02/story")
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var before, after bytes.Buffer
		if err := html.Render(&before, doc.Nodes[0]); err != nil {
			return
		}
		m := Extract(doc, Hints{URL: base, Now: testNow})
		if err := html.Render(&after, doc.Nodes[0]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(before.Bytes(), after.Bytes()) {
			t.Fatal("Extract modified the document")
		}
		if !m.Published.IsZero() && (m.Published.Year() < minYear || m.Published.After(testNow.AddDate(0, 0, 2))) {
			t.Fatalf("published %v out of bounds", m.Published)
		}
		if !m.Modified.IsZero() && (m.Modified.Year() < minYear || m.Modified.After(testNow.AddDate(0, 0, 2))) {
			t.Fatalf("modified %v out of bounds", m.Modified)
		}
		for _, u := range []string{m.Canonical, m.Image} {
			if u == "" {
				continue
			}
			pu, err := url.Parse(u)
			if err != nil || !pu.IsAbs() || pu.Host == "" {
				t.Fatalf("URL %q is not absolute", u)
			}
		}
	})
}

// FuzzOriginalCues checks originalCues against the regular expression
// whose matches it finds faster.
func FuzzOriginalCues(f *testing.F) {
	for _, s := range []string{
		"This story was originally published on March 3, 2021. Updated since.",
		"FIRST POSTED in 2019; first   appeared — the 4th; Firstly posted",
		"Dieser Artikel ist URSPRÜNGLICH erschienen am 3. März. Zuerst veröffentlicht im Mai.",
		"initialement publiée le 2 mai, inicialmente publicado el lunes, inizialmente pubblicata il",
		"firſt publiſhed on", "originally\n\n\tpublished\u00a0: on  ", "ifu zo", "",
	} {
		f.Add(s, 4)
	}
	f.Fuzz(func(t *testing.T, text string, n int) {
		n = n%8 - 1 // -1 for all of them, as FindAllStringIndex
		want := rxOriginalCue.FindAllStringIndex(text, n)
		if n < 0 {
			n = len(text) + 1
		}
		got := originalCues(text, n)
		if len(got) != len(want) {
			t.Fatalf("originalCues(%q) = %v, the expression finds %v", text, got, want)
		}
		for i := range got {
			if got[i][0] != want[i][0] || got[i][1] != want[i][1] {
				t.Fatalf("originalCues(%q) = %v, the expression finds %v", text, got, want)
			}
		}
	})
}

// plainTokenize is tokenize without its ASCII shortcuts: tokenize must
// agree with it.
func plainTokenize(s string, limit int) []token {
	var toks []token
	space := false
	for i := 0; i < len(s) && len(toks) < limit; {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= '0' && r <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			toks = append(toks, token{kind: tokNum, val: s[i:j], start: int32(i), end: int32(j), space: space})
			i, space = j, false
		case unicode.IsLetter(r):
			j := i
			prev := rune(0)
			for j < len(s) {
				r2, w2 := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) || (j > i && isCJKDateWord(r2)) {
					break
				}
				if unicode.IsLower(prev) && unicode.IsUpper(r2) {
					break
				}
				prev = r2
				j += w2
				if isCJKDateWord(r2) {
					break
				}
			}
			toks = append(toks, token{kind: tokWord, val: strings.ToLower(s[i:j]), start: int32(i), end: int32(j), space: space})
			i, space = j, false
		case unicode.IsSpace(r) || r == '\u00a0':
			space = true
			i += w
		default:
			toks = append(toks, token{kind: tokSep, val: s[i : i+w], start: int32(i), end: int32(i + w), space: space})
			i, space = i+w, false
		}
	}
	return toks
}

func FuzzTokenize(f *testing.F) {
	f.Add("Published: HealthDECEMBER 22, 2025 SmithMar 3 März 2019年3月4日 ÉTÉ éTé \xff x")
	f.Fuzz(func(t *testing.T, s string) {
		got, want := tokenize(s, 50), plainTokenize(s, 50)
		if !slices.Equal(got, want) {
			t.Errorf("tokenize(%q) = %v, want %v", s, got, want)
		}
	})
}

// FuzzNearDigits checks that the tokens appendNearDigits keeps find the
// dates, and the copyright year, that all the text's tokens find.
func FuzzNearDigits(f *testing.F) {
	for _, s := range []string{
		"Posted by A. Writer on Wednesday, 17 September 2025 at 10:30 am EST. " + strings.Repeat("Words without a number. ", 20) + "© 2024 Example News",
		"Copyright (c) Example Broadcasting Corporation International Limited 2023",
		"2019年7月22日 更新 22.07.2019 07/22/19 20190722 March 3rd, 2021",
		strings.Repeat("x", 300) + " 12 " + strings.Repeat("y ", 200) + "May 4, 2020",
		"Updated\u00a0on 3\u00a0March\u00a02021", "", "1", "©",
	} {
		f.Add(s, false)
	}
	b := dateBounds{min: time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC), max: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, s string, dayFirst bool) {
		all := dateParser{toks: tokenize(s, maxTokens), dayFirst: dayFirst}
		near := dateParser{toks: appendNearDigits(nil, s, maxTokens), dayFirst: dayFirst}
		if got, want := near.find(maxTextDates), all.find(maxTextDates); !slices.Equal(got, want) {
			t.Errorf("dates in %q: %v near digits, %v in all tokens", s, got, want)
		}
		if got, want := copyrightYear(near.toks, b), copyrightYear(all.toks, b); got != want {
			t.Errorf("copyright year in %q: %d near digits, %d in all tokens", s, got, want)
		}
	})
}
