package metadata

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	utc := time.UTC
	plus := func(h, m int) *time.Location { return time.FixedZone("", h*3600+m*60) }
	tests := []struct {
		in       string
		dayFirst bool
		want     time.Time
		prec     precision
	}{
		{"2019-07-22T14:05:00+05:00", true, time.Date(2019, 7, 22, 14, 5, 0, 0, plus(5, 0)), precTime},
		{"2019-07-22T14:05:00.250Z", true, time.Date(2019, 7, 22, 14, 5, 0, 250e6, utc), precTime},
		{"2019-07-22 14:05:00 +0530", true, time.Date(2019, 7, 22, 14, 5, 0, 0, plus(5, 30)), precTime},
		{"2019-07-22T14:05", true, time.Date(2019, 7, 22, 14, 5, 0, 0, utc), precTime},
		{"2019-07-22", true, time.Date(2019, 7, 22, 0, 0, 0, 0, utc), precDay},
		{"2019/07/22", true, time.Date(2019, 7, 22, 0, 0, 0, 0, utc), precDay},
		{"Mon, 22 Jul 2019 09:05:00 GMT", true, time.Date(2019, 7, 22, 9, 5, 0, 0, utc), precTime},
		{"Mon, 22 Jul 2019 09:05:00 -0700", true, time.Date(2019, 7, 22, 9, 5, 0, 0, plus(-7, 0)), precTime},
		{"12. März 2019", true, time.Date(2019, 3, 12, 0, 0, 0, 0, utc), precDay},
		{"Dienstag, 29. Januar 2019, 14:30 Uhr", true, time.Date(2019, 1, 29, 14, 30, 0, 0, utc), precTime},
		{"12.03.2019", true, time.Date(2019, 3, 12, 0, 0, 0, 0, utc), precDay},
		{"12.03.2019", false, time.Date(2019, 3, 12, 0, 0, 0, 0, utc), precDay}, // dots are always day first
		{"03/12/2019", false, time.Date(2019, 3, 12, 0, 0, 0, 0, utc), precDay},
		{"03/12/2019", true, time.Date(2019, 12, 3, 0, 0, 0, 0, utc), precDay},
		{"13/12/2019", false, time.Date(2019, 12, 13, 0, 0, 0, 0, utc), precDay}, // only day first can be right
		{"12/13/2019", true, time.Date(2019, 12, 13, 0, 0, 0, 0, utc), precDay},  // only month first can be right
		{"22nd July, 2019", true, time.Date(2019, 7, 22, 0, 0, 0, 0, utc), precDay},
		{"Mon 22nd July 2019 | 02:05 PM", true, time.Date(2019, 7, 22, 14, 5, 0, 0, utc), precTime},
		{"July 22, 2019 at 12:30 am EDT", true, time.Date(2019, 7, 22, 0, 30, 0, 0, plus(-4, 0)), precTime},
		{"Jul. 4 2021", true, time.Date(2021, 7, 4, 0, 0, 0, 0, utc), precDay},
		{"29 novembre 2023 à 10:15", true, time.Date(2023, 11, 29, 10, 15, 0, 0, utc), precTime},
		{"5 de mayo de 2020", true, time.Date(2020, 5, 5, 0, 0, 0, 0, utc), precDay},
		{"2019年7月22日", true, time.Date(2019, 7, 22, 0, 0, 0, 0, utc), precDay},
		{"Posted: 1st of June 2018", true, time.Date(2018, 6, 1, 0, 0, 0, 0, utc), precDay},
		{"1563786300", true, time.Unix(1563786300, 0).UTC(), precTime},
		{"20190722", true, time.Date(2019, 7, 22, 0, 0, 0, 0, utc), precDay},
		{"Mental HealthDECEMBER 22, 2022", true, time.Date(2022, 12, 22, 0, 0, 0, 0, utc), precDay}, // glued by the markup
		{"By Ann LeeMar 5, 2025", true, time.Date(2025, 3, 5, 0, 0, 0, 0, utc), precDay},
	}
	for _, tt := range tests {
		got, prec, ok := parseDate(tt.in, tt.dayFirst)
		if !ok {
			t.Errorf("parseDate(%q) found no date, want %v", tt.in, tt.want)
			continue
		}
		_, gotOff := got.Zone()
		_, wantOff := tt.want.Zone()
		if !got.Equal(tt.want) || gotOff != wantOff || prec != tt.prec {
			t.Errorf("parseDate(%q, %v) = %v (precision %d), want %v (precision %d)", tt.in, tt.dayFirst, got, prec, tt.want, tt.prec)
		}
	}
}

func TestParseDateRejects(t *testing.T) {
	for _, in := range []string{
		"", "hello", "2019", "July 2019", "31.02.2019", "2019-13-01", "2019-02-30", "version 1.2.3",
		"call 555-12-2019x", "8.\n9.\n2010", "room 12 of 30", "12:30", "ID 201907221",
		"March 45, 2019", "99/99/2019",
	} {
		if got, _, ok := parseDate(in, true); ok {
			t.Errorf("parseDate(%q) = %v, want no date", in, got)
		}
	}
}

func TestURLDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://a.example/2019/07/22/story", "2019-07-22"},
		{"https://a.example/news/2019-07-22-story.html", "2019-07-22"},
		{"https://a.example/news/20190722/story", "2019-07-22"},
		{"https://a.example/meldungen/29-10-2021", "2021-10-29"},
		{"https://a.example/blog/2023/October/03/story", "2023-10-03"},
		{"https://a.example/blog/2023/march/7/", "2023-03-07"},
		{"https://a.example/blog/2023/guides/03/story", ""},
		{"https://a.example/2019/07/story", ""},
		{"https://a.example/item/123456789", ""},
		{"https://a.example/?d=2019-07-22", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got := urlDate(tt.in)
		s := ""
		if !got.IsZero() {
			s = got.Format(time.DateOnly)
		}
		if s != tt.want {
			t.Errorf("urlDate(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}

func TestAgreeWithDay(t *testing.T) {
	day := time.Date(2023, 11, 8, 0, 0, 0, 0, time.UTC)
	late := time.Date(2023, 11, 9, 3, 28, 0, 0, time.UTC) // 22:28 the evening before, in New York
	got := agreeWithDay(late, day)
	if !got.Equal(late) {
		t.Errorf("agreeWithDay changed the instant: %v, want %v", got, late)
	}
	if y, m, d := got.Date(); y != 2023 || m != 11 || d != 8 {
		t.Errorf("agreeWithDay(%v) is on %v, want 2023-11-08", late, got)
	}
	far := time.Date(2023, 11, 12, 3, 0, 0, 0, time.UTC)
	if got := agreeWithDay(far, day); got != far {
		t.Errorf("agreeWithDay moved a date days away: %v", got)
	}
	tokyo := late.In(time.FixedZone("", 9*3600)) // the page's own offset
	if got := agreeWithDay(tokyo, day); got != tokyo {
		t.Errorf("agreeWithDay replaced the offset the page gave: %v", got)
	}
}

func TestTextScanDate(t *testing.T) {
	b := dateBounds{min: time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC), max: testNow}
	tests := []struct {
		name, text string
		h1         int
		want       string
	}{
		{"cue", "Other story 01.01.2019\nVeröffentlicht am 12. März 2019\nText", -1, "2019-03-12"},
		{"modified cue is not published", "Aktualisiert am 14.03.2019\nmore\n", -1, "2019-03-14"},
		{"most frequent", "5 May 2020 a\n6 May 2020 b\n6 May 2020 c\n6 May 2020 d\n", -1, "2020-05-06"},
		{"older at least half as frequent", "6 May 2020 a\n5 May 2020 b\n6 May 2020 c\n", -1, "2020-05-05"},
		{"after headline", "4 May 2020 menu\n4 May 2020 menu\nHeadline\n7 May 2020\n", 26, "2020-05-07"},
		{"copyright bounds", "3 June 2014 old\n© 2020 Site\n9 July 2020\n", -1, "2020-07-09"},
		{"future", "1 January 2099\n", -1, ""},
		{"none", "no dates here at all", -1, ""},
	}
	for _, tt := range tests {
		got := scanText(tt.text, true, b).date(tt.h1, b)
		s := ""
		if !got.IsZero() {
			s = got.Format(time.DateOnly)
		}
		if s != tt.want {
			t.Errorf("%s: date = %q, want %q", tt.name, s, tt.want)
		}
	}
}

// FuzzParseDate checks that the date parser never panics and that what it
// returns is a real date.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2019-07-22T14:05:00+05:00", "12. März 2019", "03/12/2019", "Mon, 22 Jul 2019 09:05:00 GMT",
		"July 22, 2019 at 12:30 am EDT", "2019年7月22日", "1563786300", "22nd July, 2019", "8.\n9.\n2010", "+99:99"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, dayFirst bool) {
		got, prec, ok := parseDate(s, dayFirst)
		if !ok {
			return
		}
		if got.IsZero() || (prec != precDay && prec != precTime) {
			t.Fatalf("parseDate(%q) = %v, precision %d", s, got, prec)
		}
		scanText(s, dayFirst, dateBounds{max: testNow}).date(0, dateBounds{max: testNow})
	})
}

func TestParseDateExported(t *testing.T) {
	got, ok := ParseDate("Veröffentlicht am 3. Oktober 2020 um 9:41 Uhr")
	want := time.Date(2020, 10, 3, 9, 41, 0, 0, time.UTC)
	if !ok || !got.Equal(want) {
		t.Errorf("ParseDate = %v, %v; want %v", got, ok, want)
	}
	if _, ok := ParseDate("no date"); ok {
		t.Error("ParseDate found a date in text without one")
	}
}
