package process

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// makeSafe makes every field of a record as safe as its sanitized HTML,
// whatever the page or its feed put in them: a field of text holds plain
// text (tags stripped, entities decoded, control characters dropped), a
// field of a URL an absolute http or https URL resolved against base, or
// nothing. The feed item is copied, not changed in place.
func (a *Article) makeSafe(base *url.URL) {
	a.URL = safeURL(a.URL, base)
	a.Link = safeURL(a.Link, base)
	a.FeedURL = safeURL(a.FeedURL, nil)
	a.Image = safeURL(a.Image, base)
	for _, s := range []*string{&a.Feed, &a.Language, &a.SiteName, &a.Section, &a.Description} {
		*s = plainText(*s, false)
	}
	// The title and text are the page's own, from its text nodes and
	// attributes (or the feed item's, made plain text as they were taken):
	// an "<br>" or "&amp;" in them is what the page says (an article
	// about HTML), not markup to strip or decode.
	a.Title = cleanText(a.Title, false)
	a.Authors = plainTexts(a.Authors)
	a.Tags = plainTexts(a.Tags)
	a.Text = cleanText(a.Text, true)
	if d := a.Dateline; d != nil {
		a.Dateline = &Dateline{Place: plainText(d.Place, false), Sources: plainTexts(d.Sources), Date: plainText(d.Date, false)}
	}
	if a.Item != nil {
		it := *a.Item
		it.Link = safeURL(it.Link, base)
		it.Image = safeURL(it.Image, base)
		for _, s := range []*string{&it.GUID, &it.Title, &it.FeedTitle} {
			*s = plainText(*s, false)
		}
		it.Description = plainText(it.Description, true)
		it.Content = plainText(it.Content, true)
		it.Authors = plainTexts(it.Authors)
		it.Categories = plainTexts(it.Categories)
		a.Item = &it
	}
}

// safeURL returns s resolved against base if it is an http or https URL
// with a host, and "" otherwise (javascript:, data:, relative without a
// base, unparsable). An absolute URL is returned as it was given.
func safeURL(s string, base *url.URL) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	if !u.IsAbs() {
		if base == nil {
			return ""
		}
		u = base.ResolveReference(u)
		s = u.String()
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// plainTexts returns the plain text of each of list, without the empty.
func plainTexts(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s = plainText(s, false); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// plainText returns s as plain text: the text of its markup, if it has any
// (the content of script, style and the like dropped; entities decoded),
// without control characters or bidirectional overrides. One line, spaces
// collapsed, unless multiline: then blocks become paragraphs separated by
// a blank line, and lines are kept.
func plainText(s string, multiline bool) string {
	if isPlain(s, multiline, true) {
		return s // no copy of a long text that is plain already
	}
	if strings.ContainsAny(s, "<&") {
		s = markupText(s, multiline)
	}
	return cleanText(s, multiline)
}

// cleanText is plainText for a text that holds no markup, whatever its
// characters: control characters and bidirectional overrides dropped,
// spaces collapsed, and in multiline text blank lines between paragraphs.
func cleanText(s string, multiline bool) string {
	if isPlain(s, multiline, false) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space, newlines := false, 0
	for _, r := range s {
		switch {
		case r == '\n' && multiline:
			newlines++
			space = false
			continue
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v':
			space = true
			continue
		case unicode.IsControl(r), r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			continue
		}
		if b.Len() > 0 {
			switch {
			case newlines > 1:
				b.WriteString("\n\n")
			case newlines == 1:
				b.WriteByte('\n')
			case space:
				b.WriteByte(' ')
			}
		}
		space, newlines = false, 0
		b.WriteRune(r)
	}
	return b.String()
}

// isPlain reports that plainText (cleanText without markup) would return
// s as it is (false when it cannot tell without doing the work).
func isPlain(s string, multiline, withMarkup bool) bool {
	prev := ' ' // no space at the start
	newlines := 0
	for _, r := range s {
		switch {
		case withMarkup && (r == '<' || r == '&'):
			return false
		case r == '\n' && multiline:
			if prev == ' ' || newlines == 2 {
				return false
			}
			newlines++
		case r == ' ':
			if prev == ' ' || prev == '\n' {
				return false
			}
			newlines = 0
		case r < ' ' || unicode.IsControl(r), r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return false
		default:
			newlines = 0
		}
		prev = r
	}
	return prev != ' ' && prev != '\n'
}

// markup finds what markupText treats as markup: a tag (its name, and
// attributes without angle brackets), a comment, a declaration.
var markup = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s[^<>]*)?)>|<!--[\s\S]*?-->|<![a-zA-Z][^<>]*>`)

// markupText is the text of s with its markup removed and its entities
// decoded, again while that uncovers more (text escaped twice). Only tags
// with the name of an HTML element or attribute are markup: other text in
// angle brackets is kept ("<The Palace: a tale>", a title in Korean usage),
// and so is a stray "<" (a tag ends at its first ">" with no "<" before
// it), so that text of the page is never swallowed. The content of script,
// style and the like is dropped with them, up to their end tag.
func markupText(s string, multiline bool) string {
	for range 3 {
		out := html.UnescapeString(stripMarkup(s, multiline))
		if out == s || !strings.ContainsAny(out, "<&") {
			return out
		}
		s = out
	}
	return s
}

func stripMarkup(s string, multiline bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for s != "" {
		m := markup.FindStringSubmatchIndex(s)
		if m == nil {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:m[0]])
		tag, rest := s[m[0]:m[1]], s[m[1]:]
		s = rest
		if m[4] < 0 {
			continue // a comment or declaration
		}
		name := strings.ToLower(tag[m[4]-m[0] : m[5]-m[0]])
		closing := m[3] > m[2]
		switch atom.Lookup([]byte(name)) {
		case 0:
			b.WriteString(tag) // not markup
		case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Iframe, atom.Object, atom.Svg, atom.Math:
			if !closing && !strings.HasSuffix(tag, "/>") {
				// Drop the content up to the end tag. Without one, only
				// the tag goes: text that names a tag loses no more.
				end := strings.Index(strings.ToLower(s), "</"+name)
				if end >= 0 {
					if gt := strings.IndexByte(s[end:], '>'); gt >= 0 {
						s = s[end+gt+1:]
					}
				}
			}
		case atom.Br:
			b.WriteByte('\n')
		case atom.P, atom.Div, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote,
			atom.Tr, atom.Pre, atom.Section, atom.Article, atom.Ul, atom.Ol, atom.Table, atom.Figure, atom.Figcaption, atom.Hr:
			if multiline {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
		default:
			// Inline elements join their text as it is written.
		}
	}
	return b.String()
}
