package process

import (
	"net/url"
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
	for _, s := range []*string{&a.Feed, &a.Title, &a.Language, &a.SiteName, &a.Section, &a.Description} {
		*s = plainText(*s, false)
	}
	a.Authors = plainTexts(a.Authors)
	a.Tags = plainTexts(a.Tags)
	a.Text = plainText(a.Text, true)
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
	if isPlain(s, multiline) {
		return s // no copy of a long text that is plain already
	}
	if strings.ContainsAny(s, "<&") {
		s = markupText(s, multiline)
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

// isPlain reports that plainText would return s as it is (false when it
// cannot tell without doing the work).
func isPlain(s string, multiline bool) bool {
	prev := ' ' // no space at the start
	newlines := 0
	for _, r := range s {
		switch {
		case r == '<' || r == '&':
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

// markupText is the text of an HTML fragment.
func markupText(s string, multiline bool) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	skip := 0 // depth inside elements whose content is not text
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String() // io.EOF, or a reader error strings.Reader never has
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Iframe, atom.Object, atom.Svg, atom.Math:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
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
	}
}
