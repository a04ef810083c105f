package metadata

import (
	"reflect"
	"testing"
)

func TestStripSite(t *testing.T) {
	tests := []struct {
		title, site, host string
		guess             bool
		want              string
	}{
		{"Floods Close Main Road | Valley News", "Valley News", "", false, "Floods Close Main Road"},
		{"Valley News: Floods Close Main Road", "Valley News", "", false, "Floods Close Main Road"},
		{"Floods Close Main Road - Valley News - Local", "Valley News", "", false, "Floods Close Main Road"},
		{"Floods Close Main Road – valleynews.example", "", "valleynews.example", false, "Floods Close Main Road"},
		{"Leaked Papers Show Plan - Reports", "Newsroom Example", "", false, "Leaked Papers Show Plan - Reports"},
		{"Floods Close Main Road | Valley", "", "", true, "Floods Close Main Road"},
		{"Floods Close Main Road | Valley", "", "", false, "Floods Close Main Road | Valley"},
		{"Q&A - Why?", "", "", true, "Q&A - Why?"},
		{"Free Courses for Women in IT - News.example.md", "", "", false, "Free Courses for Women in IT"},
		{"Leaked Papers Show Plan - Reports", "", "", true, "Leaked Papers Show Plan - Reports"},
		{"Bridge Reopens - TACH! - Lokalnachrichten", "TACH! - Lokalnachrichten", "", false, "Bridge Reopens"},
		{"Songs That Help You Run | Teufel Blog", "Das Lautsprecher Teufel Blog", "", false, "Songs That Help You Run"},
		{"Council Lights the Footpaths - Linkpile", "", "tech.linkpile.example", false, "Council Lights the Footpaths"},
		{"Council Lights the Footpaths - Tech", "", "tech.linkpile.example", false, "Council Lights the Footpaths"},
		{"kettlelog.example: Letting an Agent Build", "", "", false, "Letting an Agent Build"},
		{"kettlelog.example Letting an Agent Build", "", "", false, "Letting an Agent Build"},
		{"Travel.example for Business Trips", "", "", false, "Travel.example for Business Trips"},
	}
	for _, tt := range tests {
		if got := stripSite(tt.title, tt.site, tt.host, tt.guess); got != tt.want {
			t.Errorf("stripSite(%q, %q) = %q, want %q", tt.title, tt.site, got, tt.want)
		}
	}
}

func TestCleanAuthors(t *testing.T) {
	tests := []struct {
		in   []string
		want []string
	}{
		{[]string{"By Jane Doe"}, []string{"Jane Doe"}},
		{[]string{"Von Anna Muster und Jan Beispiel"}, []string{"Anna Muster", "Jan Beispiel"}},
		{[]string{"Jane Doe, John Roe & Ann Poe"}, []string{"Jane Doe", "John Roe", "Ann Poe"}},
		{[]string{"Jane Doe", "jane doe", "JANE DOE"}, []string{"Jane Doe"}},
		{[]string{"By Jane Doe, Staff Writer | jane.doe@example.org"}, []string{"Jane Doe"}},
		{[]string{"Reuters Staff"}, []string{"Reuters Staff"}},
		{[]string{"https://www.facebook.com/janedoe"}, nil},
		{[]string{"Jane Doe 12 March 2020"}, nil},
		{[]string{"@janedoe"}, nil},
		{[]string{"Sputnik"}, []string{"Sputnik"}},
		{[]string{"Artikel von: Hausinfo"}, []string{"Hausinfo"}},
		{[]string{"erstellt von Dominique"}, []string{"Dominique"}},
		{[]string{"The Planetary Press", "By"}, []string{"The Planetary Press"}},
		{[]string{"Publiziert am", "uriebe"}, []string{"uriebe"}},
		{[]string{"Hanns-Seidel-Stiftung", "V"}, []string{"Hanns-Seidel-Stiftung"}},
		{[]string{"news-site.ch"}, nil},
		{[]string{"Daily Planet | World | Breaking news"}, nil},
		{[]string{"Autorin: Eva Stern"}, []string{"Eva Stern"}},
		{[]string{"det/dpa"}, []string{"dpa"}},
		{[]string{"Autor*innen"}, nil},
		{[]string{"Là-bas si j'y suis"}, []string{"Là-bas si j'y suis"}},
		{[]string{"Geschrieben vonElisa Marvena"}, []string{"Elisa Marvena"}},
		{[]string{"Post author By Helge Fahrnberger"}, []string{"Helge Fahrnberger"}},
		{[]string{"Recipe by Eat What Tonight"}, []string{"Eat What Tonight"}},
		{[]string{"Christoph Hein Chefredakteur"}, []string{"Christoph Hein"}},
		{[]string{"Rachel Doe Senior Staff Writer"}, []string{"Rachel Doe"}},
		{[]string{"Ras Holm Founder & Lead Reviewer"}, []string{"Ras Holm"}},
		{[]string{"Harry Roe Tech Reporter"}, []string{"Harry Roe"}},
		{[]string{"View my complete profile"}, nil},
		{[]string{"Name (erforderlich)"}, nil},
		{[]string{"Web Commerce GmbH www.w-commerce.de"}, nil},
		{[]string{"José Volta e Pinto"}, []string{"José Volta e Pinto"}},
		{[]string{"Mario Rossi e Luca Bianchi"}, []string{"Mario Rossi", "Luca Bianchi"}},
		{[]string{"Ann Poe, M.D., FACP"}, []string{"Ann Poe"}},
		{[]string{"Lee Varga, PhD, RPSGT"}, []string{"Lee Varga"}},
		{[]string{"Ida Lund, MS, RD and Per Sand, DVM"}, []string{"Ida Lund", "Per Sand"}},
		{[]string{"Jon Roe | KVRN"}, []string{"Jon Roe"}},
		{[]string{"Ola Berg, JoAnn Kim"}, []string{"Ola Berg", "JoAnn Kim"}},
	}
	for _, tt := range tests {
		if got := cleanAuthors(tt.in, false); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("cleanAuthors(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsSlug(t *testing.T) {
	for tag, want := range map[string]bool{
		"brand-nationalpost": true, "category-pmnhealth": true, "allahabad-city-politics": true, "article_normal": true,
		"covid-19": false, "self-driving": false, "North Korea": false, "e-Mobility": false, "5G": false,
	} {
		if got := isSlug(tag); got != want {
			t.Errorf("isSlug(%q) = %v, want %v", tag, got, want)
		}
	}
}

func TestCutTaglines(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Best Kayaks for Calm Lakes 2024 | Nine Models Tested", "Best Kayaks for Calm Lakes 2024"},
		{"Opinion | Why the River Floods Every Spring", "Why the River Floods Every Spring"},
		{"Ten Lakes Worth the Long Drive | The Best Places to Swim This Summer", "Ten Lakes Worth the Long Drive | The Best Places to Swim This Summer"},
		{"Rivers and Lakes", "Rivers and Lakes"},
	} {
		if got := cutTaglines(tc.in); got != tc.want {
			t.Errorf("cutTaglines(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTrimHeadlineExtras(t *testing.T) {
	for _, tc := range []struct {
		h, meta, site, host, want string
	}{
		{"Guide: Twelve Rooftop Gardens", "Twelve Rooftop Gardens | Green Roofs", "Green Roofs", "", "Twelve Rooftop Gardens"},
		{"Mar 4 2025 Moving a mailing list", "Moving a mailing list", "", "", "Moving a mailing list"},
		{"Council Lights the Footpaths (daily.example) 142", "Council Lights the Footpaths - Linkpile", "", "linkpile.example", "Council Lights the Footpaths"},
		// The metadata carries the "label": it is the headline's.
		{"Acme introduces Gizmo: A Faster Kettle", "A Faster Kettle | Acme introduces Gizmo: A Faster Kettle", "", "", "Acme introduces Gizmo: A Faster Kettle"},
		// A subtitle is not a label.
		{"Keeping a Home Clean: Ten Habits", "Keeping a Home Clean", "", "", "Keeping a Home Clean: Ten Habits"},
		{"Chapter One Guide: Lakes", "Lakes", "", "", "Chapter One Guide: Lakes"},
		{"Big Data Analytics in Retail 2024", "Big Data Analytics in Retail", "", "", "Big Data Analytics in Retail 2024"},
		{"Rivers of Europe", "Rivers of Europe", "", "", "Rivers of Europe"},
	} {
		if got := trimHeadlineExtras(tc.h, []string{tc.meta}, tc.site, tc.host); got != tc.want {
			t.Errorf("trimHeadlineExtras(%q, %q) = %q, want %q", tc.h, tc.meta, got, tc.want)
		}
	}
}

func TestHalfwidthPunct(t *testing.T) {
	for in, want := range map[string]string{
		"Why Do Kettles Sing？": "Why Do Kettles Sing?",
		"Lakes！ Rivers：Seas":   "Lakes! Rivers:Seas",
		"水壶为什么会响？":             "水壶为什么会响？",
		"Ｆｕｌｌｗｉｄｔｈ letters":    "Ｆｕｌｌｗｉｄｔｈ letters",
	} {
		if got := halfwidthPunct(in); got != want {
			t.Errorf("halfwidthPunct(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLooksLikeName(t *testing.T) {
	for name, want := range map[string]bool{
		"Jane Doe": true, "Maria (Lopez) Garcia": true, "Em Lugar (SP)": false, "(Maria) Garcia": false, "USA TODAY": false,
	} {
		if got := looksLikeName(name); got != want {
			t.Errorf("looksLikeName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestFirstNames(t *testing.T) {
	for in, want := range map[string]string{
		"Omar Reyes, MD, sports physician, Lakeside Health.": "Omar Reyes",
		"Omar Reyes, Ida Lund":                               "Omar Reyes, Ida Lund",
		"Omar Reyes and Ida Lund, who run the clinic":        "Omar Reyes and Ida Lund",
	} {
		if got := firstNames(in); got != want {
			t.Errorf("firstNames(%q) = %q, want %q", in, got, want)
		}
	}
}
