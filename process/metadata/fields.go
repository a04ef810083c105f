package metadata

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// titleSeps separate a headline from the site's name in a title.
var titleSeps = []string{" | ", " - ", " – ", " — ", " :: ", " · ", " • ", " » ", " « ", " / ", ": "}

// pickTitle returns the headline the page shows: of its <h1> elements
// and the elements marked as a post's title, the one that best matches the
// title the metadata gives (og:title, the JSON-LD headline, <title>...);
// else that metadata title with the site's name cut off; else the first
// <h1>; without taglines set off by " | ", its typographic apostrophes
// written plain.
func pickTitle(p *page, ld ldArticle, site string, base *url.URL) string {
	return halfwidthPunct(plainApostrophes.Replace(cutTaglines(pickTitleTypeset(p, ld, site, base))))
}

// halfwidthPunct writes the fullwidth forms of ASCII punctuation
// ("？", "！", "：") as ASCII in a title without CJK letters: a Latin
// headline typed with a CJK input method. CJK titles keep them.
func halfwidthPunct(t string) string {
	hasFull := false
	for _, r := range t {
		if unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) {
			return t
		}
		if isFullwidthPunct(r) {
			hasFull = true
		}
	}
	if !hasFull {
		return t
	}
	return strings.Map(func(r rune) rune {
		if isFullwidthPunct(r) {
			return r - 0xFEE0
		}
		return r
	}, t)
}

// isFullwidthPunct reports whether r is the fullwidth form of an ASCII
// punctuation mark (U+FF01 to U+FF5E, letters and digits aside).
func isFullwidthPunct(r rune) bool {
	return r >= 0xFF01 && r <= 0xFF5E && !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// maxLabelWords is the most words of a label set before a headline in
// the same element ("Blog:", "Opinion:").
const maxLabelWords = 3

// rxHeadlineTail is what an aggregator writes after a headline in its
// <h1>: the source's domain in parentheses, a comment count.
var rxHeadlineTail = regexp.MustCompile(`^\s*\(\s*[^\s()]+\.[A-Za-z]{2,}\s*\)\s*\d*\s*$`)

// trimHeadlineExtras cuts from the visible headline h what the page set
// in the same element around the headline the metadata gives: a label
// ("Blog: ..."), a date ("Dec 18 2025 ..."), the source's domain and a
// comment count ("... (example.com) 87"). The headline's own spelling is
// kept.
func trimHeadlineExtras(h string, metaTitles []string, site, host string) string {
	for _, t := range metaTitles {
		for _, ref := range []string{t, stripSite(t, site, host, true)} {
			if len(ref) >= len(h) || len(strings.Fields(ref)) < 2 {
				continue
			}
			if head := h[:len(h)-len(ref)]; strings.EqualFold(h[len(head):], ref) && isHeadlineLabel(head) && !carries(metaTitles, head) {
				return strings.TrimSpace(h[len(head):])
			}
			if strings.EqualFold(h[:len(ref)], ref) && strings.TrimSpace(h[len(ref):]) != "" && rxHeadlineTail.MatchString(h[len(ref):]) {
				return strings.TrimSpace(h[:len(ref)])
			}
		}
	}
	return h
}

// carries reports whether one of the titles holds s: then s is part of
// the headline rather than a label set before it.
func carries(titles []string, s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, t := range titles {
		if strings.Contains(strings.ToLower(t), s) {
			return true
		}
	}
	return false
}

// isHeadlineLabel reports whether head, what precedes a headline in its
// element, is a label ending in a colon or a date.
func isHeadlineLabel(head string) bool {
	if !strings.HasSuffix(head, " ") {
		return false // the headline starts mid-word
	}
	head = strings.TrimSpace(head)
	if head == "" {
		return false
	}
	if strings.HasSuffix(head, ":") {
		return len(strings.Fields(head)) <= maxLabelWords
	}
	if _, ok := ParseDate(head); ok && len(head) <= 30 {
		// A date and nothing else: every word a number or a month's.
		for _, w := range words(head) {
			if !hasDigit(w) && !hasMonthWord(w) {
				return false
			}
		}
		return true
	}
	return false
}

// maxTaglineWords is the most words a part of a title set off by " | "
// has when it is a tagline, section or site name rather than headline.
const maxTaglineWords = 4

// cutTaglines keeps the headline of a title made of parts set off by
// " | " ("Best Movers in Town 2025 | Top 19 Companies", "Opinion | How
// Sleep Works"): its longest part, when every other part is short enough
// for a tagline, a section or a site name.
func cutTaglines(t string) string {
	parts := strings.Split(t, " | ")
	if len(parts) < 2 {
		return t
	}
	best := 0
	for i, s := range parts {
		if len(strings.Fields(s)) > len(strings.Fields(parts[best])) {
			best = i
		}
	}
	for i, s := range parts {
		if i != best && len(strings.Fields(s)) > maxTaglineWords {
			return t
		}
	}
	return strings.TrimSpace(parts[best])
}

// plainApostrophes writes typographic single quotes and apostrophes
// (‘ ’) as the ASCII one: the same title reads "Beginner’s" on one page of
// a site and "Beginner's" in its feed or on the next page, and one
// spelling lets titles be compared and searched. Double quotes are kept.
var plainApostrophes = strings.NewReplacer("\u2019", "'", "\u2018", "'")

// pickTitleTypeset is pickTitle before the apostrophes are made plain.
func pickTitleTypeset(p *page, ld ldArticle, site string, base *url.URL) string {
	host := ""
	if base != nil {
		host = strings.TrimPrefix(strings.ToLower(base.Hostname()), "www.")
	}
	var metaTitles []string
	for _, t := range []string{p.meta("og:title"), ld.headline, p.meta("twitter:title", "dc.title"), p.titleTag} {
		if t = collapse(t); t != "" {
			metaTitles = append(metaTitles, t)
		}
	}
	if h := visibleHeadline(p.headings, metaTitles, site, host); h != "" {
		return trimHeadlineExtras(h, metaTitles, site, host)
	}
	if len(metaTitles) > 0 {
		return stripSite(metaTitles[0], site, host, true)
	}
	for _, h := range p.headings {
		if h.h1 && !h.discarded {
			return h.text
		}
	}
	return ""
}

// A visible heading is taken for the headline when it shares this much
// with a metadata title (a Dice coefficient of their words); the page's
// one <h1> needs less, since metadata titles are often written for search
// engines or social media rather than the page.
const (
	minHeadlineMatch = 0.5
	minOnlyH1Match   = 0.3
)

// visibleHeadline returns the heading that best matches one of the
// metadata titles, or "" when none matches well enough. An <h1> wins a
// tie over an element marked by its class, an earlier heading over a
// later one.
func visibleHeadline(hs []heading, metaTitles []string, site, host string) string {
	var refs [][]string
	for _, t := range metaTitles {
		refs = append(refs, words(t))
		if s := stripSite(t, site, host, true); s != t {
			refs = append(refs, words(s))
		}
	}
	best, bestScore := "", 0.0
	only, onlyScore, h1s := "", 0.0, 0 // the page's one <h1>, if it has one
	for _, h := range hs {
		if h.discarded || len(h.text) > 300 || isSiteName(h.text, site, host) || rxDomainLike.MatchString(h.text) {
			continue
		}
		w := words(h.text)
		score := 0.0
		for _, r := range refs {
			score = max(score, dice(w, r))
		}
		if h.h1 && h.text != only {
			only, onlyScore = h.text, score
			h1s++
		}
		if !h.h1 {
			score -= 0.01
		}
		if score > bestScore {
			best, bestScore = h.text, score
		}
	}
	switch {
	case bestScore >= minHeadlineMatch:
		return best
	case h1s == 1 && onlyScore >= minOnlyH1Match:
		return only
	}
	return ""
}

// isSiteName reports whether s is the site's name or its host name.
func isSiteName(s, site, host string) bool {
	q := squash(s)
	if host != "" {
		name, _, _ := strings.Cut(host, ".")
		if q == squash(host) || q == squash(name) {
			return true
		}
	}
	return q != "" && q == squash(site)
}

// words returns s's lower-cased words (runs of letters and digits).
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// dice is the Dice coefficient of two bags of words: twice the words they
// share over the words they have.
func dice(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	count := make(map[string]int, len(b))
	for _, w := range b {
		count[w]++
	}
	shared := 0
	for _, w := range a {
		if count[w] > 0 {
			count[w]--
			shared++
		}
	}
	return 2 * float64(shared) / float64(len(a)+len(b))
}

// sameName reports whether segment names the site.
func sameName(seg, site, host string) bool {
	s := squash(seg)
	if s == "" {
		return false
	}
	if site != "" {
		sq := squash(site)
		if s == sq || (len(s) >= 5 && strings.Contains(sq, s)) || (len(sq) >= 5 && strings.Contains(s, sq)) {
			return true
		}
	}
	if host != "" {
		if s == squash(host) {
			return true
		}
		// Any name in the host but its last: "Slashdot" on
		// developers.slashdot.org.
		labels := strings.Split(host, ".")
		for _, l := range labels[:len(labels)-1] {
			if len(l) > 2 && s == squash(l) {
				return true
			}
		}
	}
	return false
}

// squash lower-cases s and keeps only its letters and digits.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// guessSeps are the separators after which a short last segment is taken
// for the site's name even when it is not known; " - " is not one of
// them, since headlines use it too ("... - Reports").
var guessSeps = []string{" | ", " • ", " :: ", " « ", " » ", " · "}

// stripSite cuts the site's name from the start or end of title. With
// guess, a short last segment after one of guessSeps is cut as well.
func stripSite(title, site, host string, guess bool) string {
	lt := strings.ToLower(title)
	if site != "" {
		ls := strings.ToLower(site)
		for _, sep := range titleSeps {
			if strings.HasSuffix(lt, sep+ls) && len(title) > len(sep+ls) {
				return strings.TrimSpace(title[:len(title)-len(sep+ls)])
			}
			if strings.HasPrefix(lt, ls+sep) && len(title) > len(sep+ls) {
				return strings.TrimSpace(title[len(ls+sep):])
			}
		}
	}
	for _, sep := range titleSeps {
		parts := strings.Split(title, sep)
		if len(parts) < 2 {
			continue
		}
		for i, seg := range parts {
			if !sameName(seg, site, host) {
				continue
			}
			switch {
			case i == len(parts)-1 || (i > 0 && i >= len(parts)-2):
				return strings.TrimSpace(strings.Join(parts[:i], sep))
			case i == 0:
				return strings.TrimSpace(strings.Join(parts[1:], sep))
			}
		}
	}
	for _, sep := range titleSeps {
		// "Headline - example.com": a domain is the site.
		if i := strings.LastIndex(title, sep); i > 0 && rxDomainLike.MatchString(title[i+len(sep):]) {
			return strings.TrimSpace(title[:i])
		}
	}
	// "example.org: Headline", "example.org Headline": a domain written
	// in lower case before the headline is the site.
	if f := strings.Fields(title); len(f) >= 3 {
		if d := strings.TrimRight(f[0], ":|-–—·•"); rxDomainLike.MatchString(d) && strings.ToLower(d) == d {
			rest := title[strings.Index(title, f[0])+len(f[0]):]
			return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(rest), ":|-–—·•"))
		}
	}
	if guess {
		for _, sep := range guessSeps {
			i := strings.LastIndex(title, sep)
			if i <= 0 {
				continue
			}
			head, tail := title[:i], title[i+len(sep):]
			if len(strings.Fields(tail)) <= 4 && len(strings.Fields(head)) >= 3 {
				return strings.TrimSpace(head)
			}
		}
	}
	return title
}

// Author names come with noise around them.
var (
	rxByPrefix   = regexp.MustCompile(`(?i)^\s*(?:(?:ein\s+)?(?:artikel|beitrag|bericht|text|texte?|fotos?|article|story|photos?)\s+)?(?:by|von|par|por|di|door|de|from|written by|posted by|reporting by|erstellt von|geschrieben von|verfasst von|publié par|escrit[oa] por|scritto da|autor(?:in)?|authors?|redakteur(?:in)?|text|texto|reporter|publiziert am|veröffentlicht am)(?:\s*:\s*|\s+|$)`)
	rxDomainLike = regexp.MustCompile(`^[^\s]+\.[A-Za-z]{2,}$`)
	rxEmail      = regexp.MustCompile(`\S+@\S+\.\S+`)
	rxNameSplit  = regexp.MustCompile(`\s*(?:,|;|/|\||&)\s*`)
	rxNameAnd    = regexp.MustCompile(`(?i)\s+(?:and|und|et|y|e|en)\s+`)
	// "Geschrieben vonElisa Marvena": bylines whose parts the page glued.
	rxGluedPrefix = regexp.MustCompile(`^(?i:geschrieben von|written by|posted by|erstellt von|von|by)(\p{Lu})`)
	// "Recipe by Eat What Tonight", "Post author By Helge Fahrnberger".
	rxInnerBy = regexp.MustCompile(`(?i)^(?:\p{L}+\s+){1,2}by\s+`)
	// "This post was written by Jane Doe".
	rxWrittenBy = regexp.MustCompile(`(?i)^.{0,40}\b(?:written|posted|authored)\s+by\s*:?\s+`)
	// Job titles after a name.
	rxRoleSuffix = regexp.MustCompile(`(?i)\s*[,|–-]?\s*(?:(?:senior|junior|staff|lead|chief|head|tech|technology|content|marketing|former|freelance|contributing|managing|executive|associate|deputy|digital|news|science|health|travel|food|sports?|ai|&|and|\s)*(?:chefredakteur(?:in)?|redakteur(?:in)?|editor(?:-in-chief)?|writer|reporter|correspondent|korrespondent(?:in)?|journalist(?:in)?|columnist|founder|co-founder|reviewer|consultant|director|manager|analyst|coordinator|specialist|strategist|producer|ceo|cto))+$`)
	rxDomainIn   = regexp.MustCompile(`(?i)(?:^|\s)(?:www\.|\S+\.(?:com|de|org|net|ch|at|fr|uk|io)(?:\s|$))`)
	rxHasDigit   = regexp.MustCompile(`\d`)
	rxAuthorJunk = regexp.MustCompile(`(?i)\b(reporter|correspondent|editor|redaktion|admin|news service|updated|published|publiziert|veröffentlicht|aktualisiert|erstellt|share|follow|email|twitter|facebook|instagram|linkedin|more|mehr|read|lesen|comments?|kommentare?|autor\*?innen|autoren|profile|profil|bio|checked|reviewed|beiträge|posts|articles|artikel|name|erforderlich|required)\b`)
)

// cleanAuthors splits, cleans and de-duplicates raw author strings. With
// strict (for text read from the page rather than from metadata), each
// word of a name must start with a capital letter.
func cleanAuthors(raw []string, strict bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range raw {
		r = collapse(r)
		if r == "" || strings.HasPrefix(r, "http://") || strings.HasPrefix(r, "https://") || strings.HasPrefix(r, "@") {
			continue
		}
		if strings.Count(r, " | ") >= 2 {
			continue // a page title such as "Site | Section | Tagline", not names
		}
		r = rxEmail.ReplaceAllString(r, "")
		r = rxGluedPrefix.ReplaceAllString(r, "$1")
		r = rxByPrefix.ReplaceAllString(r, "")
		r = rxInnerBy.ReplaceAllString(r, "")
		if strict {
			r = rxWrittenBy.ReplaceAllString(r, "")
		}
		prev := ""
		for _, name := range splitNames(r) {
			if isCredential(name) && strings.ContainsFunc(prev, unicode.IsLower) {
				continue // "Jane Doe, Ph.D.": the letters after a written name
			}
			name = strings.Trim(collapse(name), " .:-–—()[]\"'")
			name = rxByPrefix.ReplaceAllString(name, "")
			if mayEndInRole(name) {
				name = rxRoleSuffix.ReplaceAllString(name, "")
			}
			name = strings.TrimSpace(name)
			prev = name
			if countLetters(name) < 2 || len(name) > 60 || rxHasDigit.MatchString(name) || rxAuthorJunk.MatchString(name) ||
				rxDomainLike.MatchString(name) || rxDomainIn.MatchString(name) {
				continue
			}
			words := strings.Fields(name)
			if len(words) > 5 || isInitials(name) {
				continue
			}
			if r0 := []rune(name)[0]; !unicode.IsLetter(r0) || (strict && !unicode.IsUpper(r0)) {
				continue
			}
			key := strings.ToLower(name)
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, name)
			if len(out) >= 10 {
				return out
			}
		}
	}
	return out
}

// rxCredential is one word of the degrees and certifications written
// after a name: "MD", "M.D.", "Ph.D.", "PhD", "CFP®", "FACLM".
var rxCredential = regexp.MustCompile(`^(?:\p{Lu}\.?|\p{Ll}\.?){1,6}[®™]?$`)

// isCredential reports whether s, a part of a byline after a name, is
// the letters written after it: degrees and certifications ("MD",
// "Ph.D.", "M.D. FACLM"), an outlet's initials ("KUT"). Each word is at
// most six letters, more of them capitals than not.
func isCredential(s string) bool {
	w := strings.Fields(s)
	if len(w) == 0 || len(w) > 4 {
		return false
	}
	for _, x := range w {
		upper, lower := 0, 0
		for _, r := range x {
			if unicode.IsUpper(r) {
				upper++
			} else if unicode.IsLower(r) {
				lower++
			}
		}
		if !rxCredential.MatchString(x) || upper <= lower {
			return false
		}
	}
	return true
}

// splitNames splits a byline into names at punctuation, and at "and" (in
// several languages) when each side is a full name: "José Volta e Pinto"
// and "Ortega y Gasset" are one name each.
func splitNames(s string) []string {
	var out []string
	for _, part := range rxNameSplit.Split(s, -1) {
		pieces := rxNameAnd.Split(part, -1)
		full := len(pieces) > 1
		for _, p := range pieces {
			if len(strings.Fields(p)) < 2 && !isCredential(p) {
				full = false
			}
		}
		if full {
			out = append(out, pieces...)
		} else {
			out = append(out, part)
		}
	}
	return out
}

// roleEnds are the words a match of rxRoleSuffix ends with.
var roleEnds = []string{"redakteur", "redakteurin", "editor", "editor-in-chief", "writer", "reporter", "correspondent",
	"korrespondent", "korrespondentin", "journalist", "journalistin", "columnist", "founder", "reviewer", "consultant",
	"director", "manager", "analyst", "coordinator", "specialist", "strategist", "producer", "ceo", "cto"}

// mayEndInRole reports whether rxRoleSuffix may match name: it always may
// when name is not ASCII (case folding is Unicode's there).
func mayEndInRole(name string) bool {
	if !isASCII(name) {
		return true
	}
	for _, w := range roleEnds {
		if len(name) >= len(w) && strings.EqualFold(name[len(name)-len(w):], w) {
			return true
		}
	}
	return false
}

// agencies are news agencies that write their names in lower case.
var agencies = map[string]bool{"dpa": true, "afp": true, "apa": true, "sda": true, "epd": true, "kna": true, "ap": true, "ots": true, "ddp": true, "sid": true, "ansa": true, "efe": true}

// isInitials reports whether name is an editor's lower-case initials
// ("det", "asty") rather than a name.
func isInitials(name string) bool {
	if len(name) > 4 || agencies[name] {
		return false
	}
	for _, r := range name {
		if !unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// pickSection returns article:section, the JSON-LD articleSection or the
// last link of the breadcrumb.
func pickSection(p *page, ld ldArticle) string {
	if s := collapse(firstNonEmpty(p.meta("article:section"), ld.section, p.meta("section", "parsely-section", "sailthru.section", "category"))); s != "" {
		return s
	}
	for _, c := range p.crumbs {
		var links []string
		var rec func(*html.Node, int)
		rec = func(n *html.Node, depth int) {
			if depth > 30 || len(links) > 20 {
				return
			}
			if n.Type == html.ElementNode && n.DataAtom == atom.A {
				if t := textOf(n, 100); t != "" {
					links = append(links, t)
				}
				return
			}
			for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
				rec(ch, depth+1)
			}
		}
		rec(c, 0)
		for i := len(links) - 1; i >= 0; i-- {
			// The last link may be the story itself: a section is a few words.
			if l := strings.ToLower(links[i]); l != "home" && l != "start" && l != "startseite" && l != "accueil" && l != "inicio" && len(links[i]) < 60 && len(strings.Fields(l)) <= 4 {
				return links[i]
			}
		}
	}
	return ""
}

// isSlug reports whether a tag is a content system's internal slug
// ("brand-nationalpost", "category_health") rather than a keyword.
func isSlug(t string) bool {
	if !strings.ContainsAny(t, "-_") || strings.ContainsRune(t, ' ') {
		return false
	}
	for _, r := range t {
		if unicode.IsUpper(r) {
			return false
		}
	}
	if strings.ContainsRune(t, '_') || strings.Count(t, "-") >= 2 {
		return true
	}
	for _, p := range []string{"category-", "brand-", "tag-", "section-", "topic-", "channel-", "type-", "author-"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// pickTags returns the page's keywords from article:tag, news_keywords,
// JSON-LD keywords and keywords, trimmed and de-duplicated.
func pickTags(p *page, ld ldArticle) []string {
	var raw []string
	raw = append(raw, p.metaAll("article:tag")...)
	for _, k := range []string{"news_keywords", "keywords", "parsely-tags", "sailthru.tags"} {
		for _, v := range p.metaAll(k) {
			raw = append(raw, strings.Split(v, ",")...)
		}
		if k == "news_keywords" {
			raw = append(raw, ld.keywords...)
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range raw {
		t = strings.Trim(collapse(t), " ;,")
		key := strings.ToLower(t)
		if t == "" || len(t) > 80 || seen[key] || isSlug(t) {
			continue
		}
		seen[key] = true
		out = append(out, t)
		if len(out) >= 40 {
			break
		}
	}
	return out
}
