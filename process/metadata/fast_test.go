package metadata

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The fast paths below must answer exactly as the plain code they stand
// in for.

func TestCollapseAsFields(t *testing.T) {
	for _, s := range []string{"", " ", "a b", "a  b", " a", "a ", "a\u00a0b", "a\tb", "a\nb", "é b", "a\u2003b", "\xff a", "a \xff", "Jane Doe", "x\u0085y"} {
		want := strings.Join(strings.Fields(strings.ReplaceAll(s, "\u00a0", " ")), " ")
		if got := collapse(s); got != want {
			t.Errorf("collapse(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestToLowerAsStrings(t *testing.T) {
	for _, s := range []string{"", "ABC def", "Ünïcödé İSTANBUL", "\xe2\x80", "a\xffB", "K\u212a", "ΣΑΣ"} {
		if got, want := toLower(s), strings.ToLower(s); got != want {
			t.Errorf("toLower(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestIsAuthorPage(t *testing.T) {
	tests := []struct {
		href string
		want bool
	}{
		{"https://example.com/author/jane-doe", true},
		{"https://example.com/AUTHOR/Jane", true},
		{"https://example.com/author/", false},
		{"https://example.com/authors/", false},
		{"https://example.com/authors/x", true},
		{"/x/Autoren/a", true},
		{"https://example.com/é/author/x", true},
		{"https://example.com/news/story", false},
		{"/author/", false},
		{"/author/a/contributor/", true},
	}
	for _, tt := range tests {
		if got := isAuthorPage(tt.href); got != tt.want {
			t.Errorf("isAuthorPage(%q) = %v, want %v", tt.href, got, tt.want)
		}
	}
}

// The plain definition of classKind, which it must agree with.

// containsAnyFold reports whether the lower-case s contains one of subs.
func containsAnyFold(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// dateClass reports whether an element's id, class or itemprop says it
// holds a date.
func dateClass(e elemAttrs) bool {
	first := e.id
	if first == "" {
		first = e.class
	}
	if first == "" {
		first = e.itemprop
	}
	if first != "" && containsAnyFold(first, dateFirstWords...) {
		return true
	}
	return e.class != "" && containsAnyFold(e.class, dateWords...)
}

func plainClassKind(e elemAttrs) uint8 {
	var k uint8
	if dateClass(e) {
		k |= classDate
	}
	if (containsAnyFold(e.class, "byline", "author", "autor") || strings.Contains(e.itemprop, "author")) && !containsAnyFold(e.class, "description", "-bio", "_bio") {
		k |= classByline
	}
	if containsAnyFold(e.class, titleWords...) || e.itemprop == "headline" {
		k |= classTitle
	}
	return k
}

func TestClassKind(t *testing.T) {
	tests := []struct {
		e    elemAttrs
		want uint8
	}{
		{elemAttrs{class: "post-meta x"}, classDate},
		{elemAttrs{class: "a  entry-title\tfoo", id: "mydate", itemprop: "author"}, classDate | classByline | classTitle},
		{elemAttrs{class: "time"}, classDate},
		{elemAttrs{class: "time", id: "main"}, 0},
		{elemAttrs{itemprop: "datepublished"}, classDate},
		{elemAttrs{itemprop: "headline"}, classTitle},
		{elemAttrs{class: "byline"}, classDate | classByline},
		{elemAttrs{class: "card css-1x2y3z"}, 0},
		{elemAttrs{class: "author-description"}, classDate},
		{elemAttrs{class: "author_bio x", itemprop: "author"}, classDate},
		{elemAttrs{class: "card bio", itemprop: "author"}, classByline},
		{elemAttrs{class: "byline box-bio"}, classDate},
		{elemAttrs{class: "entry-meta description", id: "x"}, classDate},
		{elemAttrs{class: "bio", itemprop: "author"}, classByline},
		{elemAttrs{class: "x", itemprop: "author-description"}, classByline},
		{elemAttrs{class: "Post-Meta X"}, classDate},
		{elemAttrs{class: "post-meta site-footer Breadcrumbs"}, classDate},
	}
	var p page
	for range 2 { // the second time from the cache
		for _, tt := range tests {
			// classWords lower-cases the class it is given; plainClassKind
			// wants it lower-cased.
			lower := tt.e
			lower.class = strings.ToLower(lower.class)
			if got := p.classKind(tt.e, p.classWords(tt.e.class)); got != tt.want || got != plainClassKind(lower) {
				t.Errorf("classKind(%+v) = %b, want %b (plain: %b)", tt.e, got, tt.want, plainClassKind(lower))
			}
		}
	}
}

func TestDiscardable(t *testing.T) {
	tests := []struct {
		tag  atom.Atom
		e    elemAttrs
		want bool
	}{
		{atom.Div, elemAttrs{class: "site-footer"}, true},
		{atom.Div, elemAttrs{class: "x Footer_Nav"}, true},
		{atom.Div, elemAttrs{class: "footerish relatedness"}, false},
		{atom.Div, elemAttrs{class: "a\tcomment-list"}, true},
		{atom.Div, elemAttrs{id: "sidebar"}, true},
		{atom.Article, elemAttrs{class: "footer"}, false},
		{atom.Nav, elemAttrs{}, true},
		{atom.Div, elemAttrs{class: "FOOTER x"}, true},
		{atom.Div, elemAttrs{class: "site-footer\fx"}, false}, // furniture parts words at spaces, tabs and newlines
		{atom.Div, elemAttrs{class: "x\fsite-footer y"}, true},
		{atom.Div, elemAttrs{class: "x\fy site-footer"}, true},
	}
	var p page
	for range 2 { // the second time from the cache
		for _, tt := range tests {
			n := &html.Node{Type: html.ElementNode, DataAtom: tt.tag, Data: tt.tag.String()}
			if got := discardable(n, tt.e, p.classWords(tt.e.class)); got != tt.want {
				t.Errorf("discardable(<%s %+v>) = %v, want %v", tt.tag, tt.e, got, tt.want)
			}
		}
	}
}

// plainClassWords is classWords without its caches, on the class
// lower-cased whole.
func plainClassWords(class string) uint8 {
	lower := strings.ToLower(class)
	var k uint8
	if furniture(lower) {
		k |= classFurniture
	}
	if strings.Contains(lower, "breadcrumb") {
		k |= classCrumb
	}
	for _, name := range strings.FieldsFunc(lower, func(r rune) bool { return strings.ContainsRune(" \t\n\r\f", r) }) {
		k |= classNameKind(name)
	}
	return k
}

func FuzzClassWords(f *testing.F) {
	for _, s := range []string{"Post-Meta X", "site-footer\fx", "a  Breadcrumbs\tENTRY-TITLE", "Kfooter \u212Aomment-list"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, class string) {
		var p page
		for range 2 { // the second time from the cache
			if got, want := p.classWords(class), plainClassWords(class); got != want {
				t.Fatalf("classWords(%q) = %b, want %b", class, got, want)
			}
		}
	})
}
