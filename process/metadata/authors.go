package metadata

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// pickAuthors returns the people the page credits, else the organization
// it credits. Structured sources (JSON-LD author, then meta author tags)
// come first, then the byline the page shows: rel=author links, links to
// an author's page, byline elements, a "By ..." line after the headline.
// Metadata naming people the page's text never shows yields to a visible
// byline. A name that is the site's or the publisher's, that the JSON-LD
// types as an organization, or that holds an organization word is taken
// only when no person is credited anywhere.
func pickAuthors(p *page, ld ldArticle, site string) []string {
	isOrg := func(name string) bool {
		return ld.orgAuthors[name] || isOrgName(name, site, ld.publisher)
	}
	var orgs, hidden []string
	for _, src := range authorSources(p, ld) {
		raw := src.names
		if src.read != nil {
			raw = src.read()
		}
		names := cleanAuthors(raw, src.visible)
		var people []string
		for _, n := range names {
			if isOrg(n) {
				if orgs == nil {
					orgs = []string{n}
				}
				continue
			}
			people = append(people, n)
		}
		if len(people) == 0 {
			continue
		}
		// Metadata may name someone the page does not show (the account
		// that posted it, an editor): the byline the page shows wins.
		if !src.visible && !p.shows(people) {
			if hidden == nil {
				hidden = people
			}
			continue
		}
		// "By The Acme Team" above the text, "Written by Jane Doe" below it:
		// the person wrote it.
		if allTeams(people) {
			if n := writtenBy(p); n != "" && !rxTeam.MatchString(n) {
				return []string{n}
			}
		}
		// A visible list of names (links to several authors' pages) that
		// holds a name the metadata gives confirms the metadata.
		if src.visible && hidden != nil && len(people) > len(hidden) && sharesName(people, hidden) {
			return hidden
		}
		return people
	}
	if hidden != nil {
		return hidden
	}
	if orgs == nil {
		// "Jane Doe's blog": a personal site credits its owner.
		if m := rxPersonalSite.FindStringSubmatch(collapse(site)); m != nil && looksLikeName(m[1]) {
			return []string{m[1]}
		}
	}
	return orgs
}

// rxPersonalSite is the name of a person's own site: "Jane Doe's blog",
// "Jane Doe’s Tech Notebook".
var rxPersonalSite = regexp.MustCompile(`^(.+?)['’]s\s+(?:\p{L}+\s+)?(?i:blog|weblog|notebook|journal|notes|homepage)$`)

// rxTeam marks a team's or a staff's name: "Acme Staff", "Team Acme".
var rxTeam = regexp.MustCompile(`(?i)\b(?:team|staff)\b`)

// allTeams reports whether every one of names is a team's.
func allTeams(names []string) bool {
	for _, n := range names {
		if !rxTeam.MatchString(n) {
			return false
		}
	}
	return len(names) > 0
}

// rxWrittenByLine is a "Written by Jane Doe" line.
var rxWrittenByLine = regexp.MustCompile(`(?i)^(?:written|authored)\s+by\s*:?\s+(.+)$`)

// writtenBy returns the person a "Written by" line after the headline
// names, or "".
func writtenBy(p *page) string {
	text := p.text
	if !p.h1Seen || p.h1Pos >= len(text) {
		return ""
	}
	for _, line := range strings.Split(text[p.h1Pos:min(len(text), p.h1Pos+maxBylineDistance)], "\n") {
		if m := rxWrittenByLine.FindStringSubmatch(collapse(line)); m != nil {
			if n := cutByline(m[1]); looksLikeName(n) {
				return n
			}
		}
	}
	return ""
}

// sharesName reports whether a and b have a name in common.
func sharesName(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x, y) {
				return true
			}
		}
	}
	return false
}

// shows reports whether the page's visible text holds one of names.
func (p *page) shows(names []string) bool {
	if !p.lowerTextSet {
		p.lowerText, p.lowerTextSet = toLower(p.text), true
	}
	text := p.lowerText
	for _, n := range names {
		n = strings.ToLower(n)
		if strings.Contains(text, n) {
			return true
		}
		for _, b := range p.buttons {
			if strings.Contains(strings.ToLower(b), n) {
				return true
			}
		}
	}
	return false
}

// toLower is strings.ToLower for a long text that is mostly ASCII.
func toLower(s string) string {
	var b strings.Builder
	b.Grow(len(s) + utf8.UTFMax)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(unicode.ToLower(r)) // an invalid byte becomes U+FFFD, as there
		i += size
	}
	return b.String()
}

// authorSource is one place a page names its authors.
type authorSource struct {
	names   []string
	visible bool // read from the page's text rather than its metadata
	// read, when set, gives the names instead of names: the sources read
	// from the page's text are read only when no earlier one answers.
	read func() []string
}

// authorSources lists the places a page names its authors, most trusted
// first.
func authorSources(p *page, ld ldArticle) []authorSource {
	srcs := []authorSource{{names: ld.authors}}
	for _, k := range []string{"author", "article:author", "parsely-author", "sailthru.author", "dc.creator"} {
		srcs = append(srcs, authorSource{names: p.metaAll(k)})
	}
	// Scholarly metadata writes one author a tag, family name first:
	// "Doe, Jane".
	var cited []string
	for _, v := range p.metaAll("citation_author") {
		if family, given, ok := strings.Cut(v, ","); ok && !strings.Contains(given, ",") {
			v = strings.TrimSpace(given) + " " + strings.TrimSpace(family)
		}
		cited = append(cited, v)
	}
	srcs = append(srcs, authorSource{names: cited})
	// Twitter's "Written by" card label, in any of the card's slots.
	for _, i := range []string{"1", "2", "3", "4"} {
		if l := strings.ToLower(p.meta("twitter:label" + i)); strings.Contains(l, "written by") || strings.Contains(l, "author") {
			srcs = append(srcs, authorSource{names: p.metaAll("twitter:data" + i)})
			break
		}
	}
	srcs = append(srcs, authorSource{names: p.relAuthors, visible: true}, authorSource{names: p.authorLinks, visible: true})
	bylines := func() []string {
		var bylines []string
		for _, n := range p.bylines {
			bylines = append(bylines, bylineNames(n)...)
			if len(bylines) >= 3 {
				break
			}
		}
		return bylines
	}
	srcs = append(srcs, authorSource{read: bylines, visible: true})
	srcs = append(srcs, authorSource{read: func() []string { return textBylines(p) }, visible: true})
	srcs = append(srcs, authorSource{read: func() []string { return dateThenName(p) }, visible: true})
	// An article's details box set aside from its text ("Published ...
	// Author Jane Doe") is page furniture to the walk.
	return append(srcs, authorSource{read: func() []string { return labelledNames(p.discarded) }, visible: true})
}

// rxDateSep is a line under a headline that starts with a date and a
// field separator: "Dec 26, 2025 • Jane Doe in Guides", "2025-12-17 ·".
var rxDateSep = regexp.MustCompile(`^(.{6,30}?)\s*[·•|]\s*(.*)$`)

// rxTrailingIn is the " in" of "Jane Doe in Guides" when the section is
// a link of its own, on the next line.
var rxTrailingIn = regexp.MustCompile(`\s+(?:in|on)$`)

// dateThenName reads the line under the headline that gives the date,
// then the author: "Dec 26, 2025 • Jane Doe", or the date and a
// separator with the name on the next line.
func dateThenName(p *page) []string {
	text := p.text
	if !p.h1Seen || p.h1Pos >= len(text) {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(text[p.h1Pos:min(len(text), p.h1Pos+2000)], "\n") {
		if l = collapse(l); l != "" {
			lines = append(lines, l)
		}
		if len(lines) == 4 {
			break
		}
	}
	for i := 1; i < len(lines) && i <= 2; i++ {
		m := rxDateSep.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		if _, ok := ParseDate(m[1]); !ok {
			continue
		}
		name := m[2]
		if name == "" && i+1 < len(lines) {
			name = lines[i+1]
		}
		name = rxTrailingIn.ReplaceAllString(cutByline(name), "")
		if looksLikeName(name) && !rxOrgWords.MatchString(name) {
			return []string{name}
		}
		return nil
	}
	return nil
}

// rxDetailsLabel is an "Author" label on a line of its own.
var rxDetailsLabel = regexp.MustCompile(`(?i)^(?:author|author\(s\)|written by)\s*:?$`)

// labelledNames returns the name on the line after the first line that
// is an "Author" label, if that line reads as a person's name.
func labelledNames(text string) []string {
	label := false
	for _, line := range strings.Split(text, "\n") {
		line = collapse(line)
		if line == "" {
			continue
		}
		if label {
			if looksLikeName(line) {
				return []string{line}
			}
			label = false
		}
		label = rxDetailsLabel.MatchString(line)
	}
	return nil
}

// Organization words: a credited name holding one is an organization's.
var rxOrgWords = regexp.MustCompile(`(?i)\b(?:inc|llc|ltd|gmbh|corp|corporation|company|clinic|hospital|foundation|university|institute|association|society|council|agency|media|magazine|newspaper|news|press|publishing|group|blog)\b\.?`)

// isOrgName reports whether name is an organization's: it holds an
// organization word, or it is the site's or the publisher's name and does
// not read as a person's (a personal site is named after its author,
// and the site's name may be the one written as a name: "annette thurmon"
// on the site "Annette Thurmon").
func isOrgName(name, site, publisher string) bool {
	if rxOrgWords.MatchString(name) {
		return true
	}
	q := squash(name)
	for _, o := range []string{site, publisher} {
		if so := squash(o); so != "" && (q == so || (len(q) >= 5 && strings.Contains(so, q)) || (len(so) >= 5 && strings.Contains(q, so))) {
			return !looksLikeName(name) && !(q == so && looksLikeName(o))
		}
	}
	return false
}

// rxBylineLabel is a byline's label on its own: "By", "Written by",
// "Author:".
var rxBylineLabel = regexp.MustCompile(`(?i)^(?:by|written by|authored by|article by|posted by|words|author|authors|author\(s\)|words by|story by|contributors?)\s*:?$`)

// bylineNames returns the names in a byline element: the text of its
// parts marked as a name (by class, itemprop or a link to the author's
// page), else its first part that follows a label or reads as a name.
func bylineNames(n *html.Node) []string {
	var marked, parts []string
	var rec func(*html.Node, int)
	rec = func(c *html.Node, depth int) {
		if depth > 20 || len(parts) > 30 {
			return
		}
		switch c.Type {
		case html.TextNode:
			if t := collapse(c.Data); t != "" {
				parts = append(parts, t)
			}
			return
		case html.ElementNode:
			if skipText(c.DataAtom) {
				return
			}
			if c != n && len(marked) < 5 && namePart(c) {
				if t := textOf(c, 120); t != "" {
					marked = append(marked, t)
					return
				}
			}
		}
		for ch := c.FirstChild; ch != nil; ch = ch.NextSibling {
			rec(ch, depth+1)
		}
	}
	rec(n, 0)
	if len(marked) > 0 {
		return marked
	}
	for i, t := range parts {
		if rxBylineLabel.MatchString(t) {
			if i+1 < len(parts) {
				return []string{cutByline(parts[i+1])}
			}
			return nil
		}
		// "Dec. 19, 2025 · Jane Doe": a part may hold the name after a
		// date or another field.
		for _, piece := range rxFieldSep.Split(t, 4) {
			if piece = cutByline(piece); hasName(rxByPrefix.ReplaceAllString(piece, "")) {
				return []string{piece}
			}
		}
	}
	if t := textOf(n, 200); len(t) < 120 && (hasName(t) || rxByPrefix.MatchString(t)) {
		return []string{t}
	}
	return nil
}

// hasName reports whether one of the names s lists reads as a person's.
func hasName(s string) bool {
	for _, n := range splitNames(s) {
		if looksLikeName(n) {
			return true
		}
	}
	return false
}

// namePart reports whether an element inside a byline holds the name.
func namePart(n *html.Node) bool {
	for _, a := range n.Attr {
		switch a.Key {
		case "itemprop":
			if strings.EqualFold(a.Val, "name") {
				return true
			}
		case "class":
			for _, c := range strings.Fields(strings.ToLower(a.Val)) {
				if strings.HasSuffix(c, "name") && !strings.Contains(c, "username") {
					return true
				}
			}
		case "href":
			if n.DataAtom == atom.A && isAuthorPage(a.Val) {
				return true
			}
		case "rel":
			if strings.Contains(strings.ToLower(a.Val), "author") {
				return true
			}
		}
	}
	return false
}

// rxBylineTail is what follows a name in a byline line: a date, a
// separator, "on ...".
var rxBylineTail = regexp.MustCompile(`(?i)\s+(?:[•·|—–-]|on|in|at|updated|published|posted)\s.*$|\s*[•·|]\s*.*$|\s+\d.*$`)

// rxFieldSep separates the fields of a byline: "date · name".
var rxFieldSep = regexp.MustCompile(`\s*[·•|]\s*`)

// cutByline cuts what follows the name in a byline line.
func cutByline(s string) string {
	return strings.TrimSpace(rxBylineTail.ReplaceAllString(s, ""))
}

// looksLikeName reports whether s reads as a person's name: two to four
// words, each starting with a capital letter (particles such as "van" or
// "de" aside).
func looksLikeName(s string) bool {
	return len(s) <= 50 && !rxAuthorJunk.MatchString(s) && capitalized(s, 2, 4)
}

// capitalized reports whether s has min to max words, each starting with
// a capital letter (particles such as "van" or "de" aside) and none
// written in capitals.
func capitalized(s string, min, max int) bool {
	w := strings.Fields(s)
	if len(w) < min || len(w) > max {
		return false
	}
	for i, x := range w {
		if i > 0 && i < len(w)-1 && strings.HasPrefix(x, "(") && strings.HasSuffix(x, ")") && len(x) > 2 {
			x = x[1 : len(x)-1] // a name given in parentheses: "Paramita (Guha) Ghosh"
		}
		r := []rune(x)[0]
		if unicode.IsUpper(r) && (len(x) <= 3 || strings.ToUpper(x) != x) {
			continue // a capital, but not a word in capitals ("USA TODAY")
		}
		switch strings.ToLower(x) {
		case "van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "del", "bin", "al":
			continue
		}
		return false
	}
	return true
}

// maxBylineDistance is how far after the headline (in bytes of text) a
// labelled byline ("Written by" on its own line, the name on the next) is
// looked for; a "By Jane Doe" line must be within nearHeadline of it.
const maxBylineDistance = 32 << 10

// rxTextByline is a byline line in the text: "By Jane Doe", "Written by:
// Jane Doe".
var rxTextByline = regexp.MustCompile(`(?i)^(by|written by|authored by|article by|words by|story by|author|contributors?)\s*:?\s+(.+)$`)

// rxPostWrittenBy is a sentence crediting the page itself: "This post
// was written by Jane Doe, MD, ...".
var rxPostWrittenBy = regexp.MustCompile(`(?i)^(?:this|the)\s+(?:blog\s+)?(?:post|article|story|piece|guide|review)\s+(?:was|is)\s+(?:written|authored)\s+by\s+(.+)$`)

// firstNames cuts a byline sentence after its names: at the first part
// set off by a comma that is not a name ("Jane Doe, MD, cardiologist,
// City Hospital" is "Jane Doe").
func firstNames(s string) string {
	parts := strings.Split(strings.TrimRight(s, ". "), ",")
	out := parts[0]
	for _, p := range parts[1:] {
		if p = strings.TrimSpace(p); isCredential(p) || !looksLikeName(p) {
			break
		}
		out += ", " + p
	}
	return out
}

// rxPostedBy is a blog engine's "Posted by NAME at DATE" line.
var rxPostedBy = regexp.MustCompile(`^(?i:posted by)\s+(\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}.'’-]*){0,3})\s+(?i:at|on)\s+(.+)$`)

// rxGluedBy is a "By" label glued to the capitalized name after it.
var rxGluedBy = regexp.MustCompile(`^By(\p{Lu}\p{Ll}+\s.+)$`)

// textBylines finds a byline in the text right after the headline: a line
// "By Jane Doe ...", or a label line ("Written by") followed by the name.
func textBylines(p *page) []string {
	if !p.h1Seen {
		return nil
	}
	text := p.text
	if p.h1Pos >= len(text) {
		return nil
	}
	text = text[p.h1Pos:min(len(text), p.h1Pos+maxBylineDistance)]
	label := false
	pos := 0
	for _, line := range strings.Split(text, "\n") {
		pos += len(line) + 1
		line = collapse(line)
		if line == "" {
			continue
		}
		if label {
			if n := cutByline(line); looksLikeName(n) {
				return []string{n}
			}
			label = false
		}
		if rxBylineLabel.MatchString(line) {
			label = true
			continue
		}
		// "Written by Jane Doe" anywhere; "By Jane Doe" near the headline.
		if m := rxTextByline.FindStringSubmatch(line); m != nil && (pos < nearHeadline || !strings.EqualFold(m[1], "by")) {
			if n := cutByline(m[2]); hasName(n) {
				return []string{n}
			}
		}
		if m := rxPostWrittenBy.FindStringSubmatch(line); m != nil {
			if n := firstNames(m[1]); hasName(n) {
				return []string{n}
			}
		}
		// "Posted by Jane at December 16, 2025 11:15 AM": a blog post's
		// footer, where a first name alone is the author.
		if m := rxPostedBy.FindStringSubmatch(line); m != nil {
			if _, ok := ParseDate(m[2]); ok && !rxAuthorJunk.MatchString(m[1]) && capitalized(m[1], 1, 4) {
				return []string{m[1]}
			}
		}
		// "ByJane Doe": the label and the name in elements of their own
		// with no space between them.
		if m := rxGluedBy.FindStringSubmatch(line); m != nil && pos < nearHeadline {
			if n := cutByline(m[1]); hasName(n) {
				return []string{n}
			}
		}
	}
	return nil
}
