package metadata

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Meta tags that name the publication date, most trusted first.
var publishedMetas = []string{
	"article:published_time", "article:published", "og:published_time", "og:article:published_time",
	"datepublished", "published_time", "published-date", "publish-date", "publish_date", "publishdate",
	"article_date_original", "article.published", "date_published", "pubdate", "parsely-pub-date",
	"sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date.created", "dcterms.created",
	"datecreated", "citation_publication_date", "citation_date", "originalpublicationdate",
	"og:pubdate", "rnews:datepublished", "cxenseparse:recs:publishtime",
}

// weakMetas name a date that may be the page's rather than the article's
// (when it was rendered or last saved): they rank below the visible date
// next to the headline.
var weakMetas = []string{
	"dc.date", "dcterms.date", "date", "created", "creation_date", "dc.created", "release_date", "timestamp",
}

// Meta tags that name the modification date, most trusted first.
var modifiedMetas = []string{
	"article:modified_time", "article:modified", "og:updated_time", "datemodified", "modified_time",
	"dc.date.modified", "dcterms.modified", "last-modified", "lastmod", "lastmodified",
	"article.updated", "parsely-updated", "updated_time", "revised",
}

// Words that, just before a date in the text, mark it as the publication
// or the modification date.
var (
	rxPublishedCue = regexp.MustCompile(`(?i)(?:^|[^\pL])(published|posted|publié|publicado|publicada|pubblicato|veröffentlicht|erschienen|erstellt|datum|date|geplaatst|created|written)\W{0,6}(am|on|le|el|il|op|at)?\W{0,3}(\p{L}+,?\s+)?$`)
	rxModifiedCue  = regexp.MustCompile(`(?i)(?:^|[^\pL])(updated|update|modified|aktualisiert|geändert|stand|mis à jour|actualizado|actualisé|aggiornato|bijgewerkt|last edited)\W{0,6}(am|on|le|el|il|op|at)?\W{0,3}(\p{L}+,?\s+)?$`)
)

// rxURLDate finds a /2019/07/22/ or 2019-07-22 style date in a URL path,
// rxURLDateDMY a /22-07-2019 one.
var (
	rxURLDate          = regexp.MustCompile(`(?:^|[/_-])((?:19|20)\d{2})[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?:[/_.-]|$)`)
	rxURLDateMonthName = regexp.MustCompile(`(?:^|/)((?:19|20)\d{2})/(\p{L}{3,10})/(0?[1-9]|[12]\d|3[01])(?:/|$)`)
	rxURLDateDMY       = regexp.MustCompile(`(?:^|[/_~-])(0[1-9]|[12]\d|3[01])[-.](0[1-9]|1[0-2])[-.]((?:19|20)\d{2})(?:[/_.-]|$)`)
)

// dateBounds is the window a page's own date must fall in.
type dateBounds struct{ min, max time.Time }

func (b dateBounds) ok(t time.Time) bool {
	return !t.IsZero() && !t.Before(b.min) && !t.After(b.max)
}

// findDates returns the page's publication and modification dates. The
// order of trust for the publication date is: JSON-LD, meta tags
// (OpenGraph, Dublin Core, parsely, sailthru...), time elements and
// microdata marked as published, the feed item, a date in the URL; then
// the visible page: a date the text shows right above or below the
// headline, elements marking a date (by class, id or itemprop, <small>,
// <time>) right after the headline, then after it, generic date
// metas, such elements before the headline; then dates in the text (after
// words such as "Published" or "Veröffentlicht am", next to the headline,
// else by frequency); dates inside links; dates in the title; dates in
// footers and sidebars. Dates before 1995 or after now are rejected. A
// page that shows no date gets none.
//
// The modification date comes from structured sources only (JSON-LD,
// meta, microdata, the feed item). A page that shows its modification day
// by its headline but nowhere its publication day is dated by the day it
// shows; structured data whose day the page never shows, or shows only
// as its update, yields to an earlier date the page shows for itself (see
// shownBefore), or to a later one the page shows by its headline that is
// not the modification day (see shownAfter); a note such as "originally
// published on" names the date of a page dated by its update; a
// timestamp a day off the date in the URL is shown in the offset that
// puts it on the URL's day (see agreeWithDay).
func findDates(p *page, ld ldArticle, h Hints, urls []string, now time.Time) (pub, mod time.Time) {
	b := dateBounds{min: time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC), max: now.Add(24 * time.Hour)}
	dayFirst := dayFirstFor(p.lang)
	text := p.text
	var scan *textScan // the visible text's dates, read once when needed
	scanned := func() *textScan {
		if scan == nil {
			scan = scanText(text, dayFirst, b)
		}
		return scan
	}
	// The days the page shows in a form with one reading, anywhere: its
	// text, its furniture, its time elements' ISO values.
	var firm map[time.Time]bool
	firmDays := func() map[time.Time]bool {
		if firm != nil {
			return firm
		}
		firm = map[time.Time]bool{}
		for d := range scanned().firm {
			firm[d] = true
		}
		for d := range scanText(p.discarded, dayFirst, b).firm {
			firm[d] = true
		}
		for _, u := range urls {
			if d := urlDate(u); !d.IsZero() {
				firm[d] = true
			}
		}
		for _, t := range p.times {
			if rxISODate.MatchString(t.value) {
				if d, _, ok := parseDate(t.value, dayFirst); ok {
					firm[dayOf(d)] = true
				}
			}
		}
		return firm
	}
	parse := func(s string) time.Time {
		f, ok := parseFirstDate(s, dayFirst)
		t := f.t
		if !ok || !b.ok(t) {
			return time.Time{}
		}
		// 03/04/2019 in a meta tag: day or month first? The page's own
		// text settles it when it shows only the other reading in a form
		// that has one ("4 March 2019", "2019-03-04").
		if m := rxAmbiguous.FindStringSubmatch(s); f.ambiguous || (m != nil && m[1] != m[2]) {
			shown := firmDays()
			alt := time.Date(t.Year(), time.Month(t.Day()), int(t.Month()), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
			if shown[dayOf(alt)] && !shown[dayOf(t)] && b.ok(alt) {
				return alt
			}
		}
		return t
	}

	// Modification date: structured sources only.
	mod = parse(ld.dateModified)
	for _, k := range modifiedMetas {
		if !mod.IsZero() {
			break
		}
		for _, m := range p.metas {
			if m.key == k {
				if mod = parse(m.content); !mod.IsZero() {
					break
				}
			}
		}
	}
	for _, t := range p.times {
		if !mod.IsZero() {
			break
		}
		if t.modified && !t.published {
			mod = parse(t.value)
		}
	}
	if mod.IsZero() && b.ok(h.FeedUpdated) {
		mod = h.FeedUpdated
	}

	pub, src := findPublished(p, ld, h, urls, b, parse, scanned)
	// Structured data whose publication day the page shows nowhere, while
	// the headline's own date element shows an earlier day (one that no
	// time zone puts the structured instant on): the structured date is
	// the template's (when the page was last rendered or saved).
	// The same holds when the page shows the structured day only as its
	// update ("Updated Aug 21, 2025"). The earlier date may also be one
	// the text labels as the publication's ("Published Apr 26, 2023") or
	// a time element marked as published, wherever they are.
	if src == "jsonld" || src == "meta" {
		if d := shownBefore(p, ld, pub, parse, scanned(), b); !d.IsZero() {
			pub = d
		} else if d := shownAfter(p, ld, pub, mod, urls, parse, scanned(), b); !d.IsZero() {
			pub = d
		}
	}
	// A page that shows its modification day by its headline but nowhere
	// its publication day presents itself as of the modification (a
	// republished or reworked story): the day it shows is its date. The
	// day shown far below the headline (an editor's note at the end, a
	// footer) does not date the page.
	if !mod.IsZero() && !pub.IsZero() && !sameDay(pub, mod) {
		if s := scanned(); !s.days[dayOf(pub)] && !s.notesOriginal(pub) && s.showsNear(dayOf(mod), p.headlinePos()) {
			pub = mod
		}
	}
	for _, u := range urls {
		if ud := urlDate(u); b.ok(ud) {
			pub = agreeWithDay(pub, ud)
			break
		}
	}
	if !mod.IsZero() && !pub.IsZero() && mod.Before(pub) {
		// A modification before the publication is the page's mistake
		// (or a template's): keep only the publication date.
		mod = time.Time{}
	}
	return pub, mod
}

func findPublished(p *page, ld ldArticle, h Hints, urls []string, b dateBounds, parse func(string) time.Time, scanned func() *textScan) (time.Time, string) {
	if t := parse(ld.datePublished); !t.IsZero() {
		return t, "jsonld"
	}
	for _, k := range publishedMetas {
		for _, m := range p.metas {
			if m.key == k {
				if t := parse(m.content); !t.IsZero() {
					return t, "meta"
				}
			}
		}
	}
	// Other meta tags named for the publication date ("published",
	// "w-published-date", "cXenseParse:publishtime").
	for _, m := range p.metas {
		if isPublishedKey(m.key) {
			if t := parse(m.content); !t.IsZero() {
				return t, "meta"
			}
		}
	}
	// Times marked as published on several days are a list of stories:
	// only one by the headline is the article's.
	listed := p.h1Seen && publishedDays(p, parse) > 1
	for _, discarded := range []bool{false, true} {
		for _, t := range p.times {
			if t.published && t.discarded == discarded && (!listed || t.near) {
				if d := parse(t.value); !d.IsZero() {
					return d, "time-published"
				}
				if d := parse(textOf(t.text, 100)); !d.IsZero() {
					return d, "time-published-text"
				}
			}
		}
	}
	if b.ok(h.FeedPublished) {
		return h.FeedPublished, "feed"
	}
	for _, u := range urls {
		if t := urlDate(u); b.ok(t) {
			return t, "url"
		}
	}
	// A note such as "This article was originally published on 26 Sep
	// 2019" names the publication date of a page dated by its update.
	if t, ok := scanned().original(); ok && b.ok(t) {
		return t, "original-note"
	}
	// The visible page: elements right after the headline first, where an
	// article's own date usually is, then the rest of the page after it;
	// those before it are often lists of other stories. Dates inside links
	// name other pages and come last. Before all of them, a date the text
	// shows right above or below the headline (a kicker or a byline with
	// no date markup): a date element on the same day gives its time.
	h1Pos := p.headlinePos()
	near, nearSrc := visibleDates(p, parse, false, nearH1)
	if t := headlineDate(p, ld, b); !t.IsZero() && !sameDay(t, near) {
		return t, "headline-text"
	}
	if !near.IsZero() {
		return near, nearSrc
	}
	if d, src := visibleDates(p, parse, false, afterH1); !d.IsZero() {
		return d, src
	}
	// Generic date metas rank between the dates after the headline and
	// those before it.
	for _, k := range weakMetas {
		for _, m := range p.metas {
			if m.key == k {
				if t := parse(m.content); !t.IsZero() {
					return t, "weak-meta"
				}
			}
		}
	}
	if d, src := visibleDates(p, parse, false, beforeH1); !d.IsZero() {
		return d, src
	}
	if t := scanned().date(h1Pos, b); !t.IsZero() {
		return t, "text"
	}
	if t := scanText(p.discarded, dayFirstFor(p.lang), b).date(-1, b); !t.IsZero() {
		return t, "discarded-text"
	}
	for _, s := range []string{p.titleTag, p.h1} {
		if t := parse(s); !t.IsZero() {
			return t, "title"
		}
	}
	for where := nearH1; where <= beforeH1; where++ {
		if d, src := visibleDates(p, parse, true, where); !d.IsZero() {
			return d, src + "-link"
		}
	}
	for _, e := range p.dateElems {
		if e.discarded {
			if d := parse(textOf(e.n, 80)); !d.IsZero() {
				return d, "discarded-element"
			}
		}
	}
	return time.Time{}, ""
}

// publishedDays counts the days (up to 2) of the page's time elements
// marked as published, outside page furniture.
func publishedDays(p *page, parse func(string) time.Time) int {
	var first time.Time
	for _, t := range p.times {
		if !t.published || t.discarded {
			continue
		}
		d := parse(t.value)
		if d.IsZero() {
			continue
		}
		switch {
		case first.IsZero():
			first = d
		case !sameDay(first, d):
			return 2
		}
	}
	if first.IsZero() {
		return 0
	}
	return 1
}

// isPublishedKey reports whether a meta tag's name says it holds the
// publication date.
func isPublishedKey(k string) bool {
	if !strings.Contains(k, "publish") || strings.Contains(k, "publisher") || strings.Contains(k, "modif") || strings.Contains(k, "updat") {
		return false
	}
	return k == "published" || strings.Contains(k, "date") || strings.Contains(k, "time")
}

// Where visibleDates looks: right after the headline, where an article's
// own date usually is, in the rest of the page after it, or before it
// (often lists of other stories).
const (
	nearH1 = iota
	afterH1
	beforeH1
)

// visibleDates looks for the date in elements that mark a date (by class,
// id or itemprop, <small>, <time>) in one part of the page (where). links
// selects the elements inside links, which usually name other pages'
// dates.
func visibleDates(p *page, parse func(string) time.Time, links bool, where int) (time.Time, string) {
	{
		if where < 2 && !p.h1Seen {
			return time.Time{}, ""
		}
		in := func(afterH1, near, inLink bool) bool {
			if inLink != links {
				return false
			}
			switch where {
			case 0:
				return near
			case 1:
				return afterH1 && !near
			}
			return !afterH1
		}
		for _, e := range p.dateElems {
			if e.discarded || !in(e.afterH1, e.near, e.inLink) {
				continue
			}
			if d := parse(textOf(e.n, 80)); !d.IsZero() {
				return d, "date-element"
			}
			if d := parse(attr(e.n, "title")); !d.IsZero() {
				return d, "date-element-title"
			}
		}
		for _, t := range p.times {
			if !t.discarded && !t.modified && in(t.afterH1, t.near, t.inLink) {
				if d := parse(t.value); !d.IsZero() {
					return d, "time-datetime"
				}
			}
		}
		for _, t := range p.times {
			if !t.discarded && !t.modified && in(t.afterH1, t.near, t.inLink) {
				if d := parse(textOf(t.text, 80)); !d.IsZero() {
					return d, "time-text"
				}
			}
		}
	}
	return time.Time{}, ""
}

// agreeWithDay reconciles a timestamp with the day its URL names. A time
// the page gives in UTC can fall on the day before or after the one the
// publisher's URL shows; when t is in UTC and within a day of day, it is
// returned as the same instant in the nearest whole-hour offset whose
// calendar day is day: the publisher's offset, inferred from its URL. A
// time with an offset of its own is returned unchanged.
func agreeWithDay(t, day time.Time) time.Time {
	_, off := t.Zone()
	if t.IsZero() || sameDay(t, day) || off != 0 {
		// An offset the page gave is the page's own: kept as it is.
		return t
	}
	for h := 1; h <= 14; h++ {
		for _, sign := range []int{-1, 1} {
			o := off + sign*h*3600
			if o < -12*3600 || o > 14*3600 {
				continue
			}
			if tt := t.In(time.FixedZone("", o)); sameDay(tt, day) {
				return tt
			}
		}
	}
	return t
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// rxISODate matches a value that starts with an ISO 8601 date.
var rxISODate = regexp.MustCompile(`^\s*\d{4}-\d{2}-\d{2}`)

// rxAmbiguous matches a numeric date whose first two parts could each be
// the day or the month.
var rxAmbiguous = regexp.MustCompile(`^\s*(0?[1-9]|1[0-2])[/.-](0?[1-9]|1[0-2])[/.-]\d{4}\b`)

func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// dayFirstFor reports whether numeric dates on a page in language lang
// (as declared) are read day first: everywhere but in American English.
func dayFirstFor(lang string) bool {
	l := strings.ToLower(strings.ReplaceAll(lang, "_", "-"))
	return !(l == "en-us" || l == "en")
}

// urlDate returns the full date in u's path, if any.
func urlDate(u string) time.Time {
	if u == "" {
		return time.Time{}
	}
	path := u
	if pu, err := url.Parse(u); err == nil {
		path = pu.Path
	}
	m := rxURLDate.FindStringSubmatch(path)
	if m == nil {
		if m = rxURLDateDMY.FindStringSubmatch(path); m != nil {
			m[1], m[3] = m[3], m[1]
		} else if m = rxURLDateMonthName.FindStringSubmatch(strings.ToLower(path)); m != nil {
			mo, ok := months[m[2]]
			if !ok {
				return time.Time{}
			}
			m[2] = strconv.Itoa(int(mo))
		} else {
			return time.Time{}
		}
	}
	t, ok := validDate(atoi(m[1]), atoi(m[2]), atoi(m[3]))
	if !ok {
		return time.Time{}
	}
	return t
}

// textScan holds the dates found in a page's visible text.
type textScan struct {
	text     string
	found    []foundDate
	days     map[time.Time]bool // the days the text shows
	firm     map[time.Time]bool // the days it shows in a form with one reading
	copyYear int                // the year after "©" or "Copyright", or 0
}

// maxTextDates bounds the dates read from one text.
const maxTextDates = 2000

// scanText tokenizes text once and finds its dates.
func scanText(text string, dayFirst bool, b dateBounds) *textScan {
	s := &textScan{text: text, days: map[time.Time]bool{}, firm: map[time.Time]bool{}}
	if text == "" {
		return s
	}
	buf := tokenPool.Get().(*[]token)
	p := dateParser{toks: appendNearDigits((*buf)[:0], text, maxTokens), dayFirst: dayFirst}
	s.found = p.find(maxTextDates)
	for _, f := range s.found {
		s.days[dayOf(f.t)] = true
		if !f.ambiguous {
			s.firm[dayOf(f.t)] = true
		}
	}
	s.copyYear = copyrightYear(p.toks, b)
	if cap(p.toks) <= maxPooledTokens {
		clear(p.toks) // let go of text
		*buf = p.toks[:0]
		tokenPool.Put(buf)
	}
	return s
}

// tokenPool keeps the token slices of scanText for its next texts: a
// page's text has tens of thousands of tokens.
var tokenPool = sync.Pool{New: func() any { return new([]token) }}

// maxPooledTokens is the most tokens a slice kept for reuse holds: the
// text of a page is bounded (maxTextBytes), but one text node may be
// huge.
const maxPooledTokens = 1 << 16

// date finds the publication date in a page's visible text: a date right
// after a word such as "Published", or within nearHeadline bytes after the
// headline (at h1Pos in the text, -1 if none); else the most frequent
// date, or the oldest one at least half as frequent. Dates older than the
// page's copyright year are not its own.
func (s *textScan) date(h1Pos int, b dateBounds) time.Time {
	counts := map[time.Time]int{}
	for _, f := range s.found {
		if !b.ok(f.t) || f.t.After(b.max.Add(-24*time.Hour)) {
			continue
		}
		before := s.text[max(0, f.pos-48):f.pos]
		if i := strings.LastIndexByte(before, '\n'); i >= 0 {
			before = before[i+1:]
		}
		if rxPublishedCue.MatchString(before) && !rxModifiedCue.MatchString(before) {
			return f.t
		}
		if h1Pos >= 0 && f.pos >= h1Pos && f.pos-h1Pos < nearHeadline {
			return f.t
		}
		day := dayOf(f.t)
		if s.copyYear != 0 && day.Year() < s.copyYear {
			continue
		}
		counts[day]++
	}
	if len(counts) == 0 {
		return time.Time{}
	}
	type cand struct {
		day time.Time
		n   int
	}
	cands := make([]cand, 0, len(counts))
	for d, n := range counts {
		cands = append(cands, cand{d, n})
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].n != cands[j].n {
			return cands[i].n > cands[j].n
		}
		return cands[i].day.Before(cands[j].day)
	})
	// The most frequent date, or an older one at least half as frequent:
	// the original date is preferred over later mentions and updates.
	best := cands[0]
	for _, c := range cands[1:min(len(cands), 10)] {
		if c.day.Before(best.day) && 2*c.n >= cands[0].n {
			best = c
		}
	}
	return best.day
}

// Bounds of "right next to the headline", in non-space bytes of text: a
// date ending at most adjacentBefore of them before the headline starts,
// or starting at most adjacentAfter of them after the headline's own text.
const (
	adjacentBefore = 40
	adjacentAfter  = 100
	// maxStandfirst bounds, in non-space bytes, the line between a
	// headline and its byline that adjacentAfter does not count.
	maxStandfirst = 300
	// adjacentWindow bounds, in bytes, how far before the headline a date
	// is looked at (white space included).
	adjacentWindow = 2000
)

// headlineDate returns the date p's text shows right next to its
// headline (see textScan.headlineDate), reading only the text around it.
func headlineDate(p *page, ld ldArticle, b dateBounds) time.Time {
	return headlineDateOf(p, ld, b, false)
}

// headlineDateOf is headlineDate; updates keeps the dates after a word
// such as "Updated". The answer without updates is read once: ld and b
// are the same for all the calls on one page.
func headlineDateOf(p *page, ld ldArticle, b dateBounds, updates bool) time.Time {
	if updates {
		return readHeadlineDate(p, ld, b, true)
	}
	if !p.headlineDateSet {
		p.headlineDate, p.headlineDateSet = readHeadlineDate(p, ld, b, false), true
	}
	return p.headlineDate
}

// readHeadlineDate is headlineDateOf without the cache.
func readHeadlineDate(p *page, ld ldArticle, b dateBounds, updates bool) time.Time {
	h1Pos := p.titlePos(ld)
	if h1Pos < 0 {
		return time.Time{}
	}
	text := p.text
	lo, hi := max(0, h1Pos-adjacentWindow), min(len(text), h1Pos+2*adjacentWindow)
	return scanText(text[lo:hi], dayFirstFor(p.lang), b).headlineDate(h1Pos-lo, b, updates)
}

// headlineDate returns the date the text shows right after the headline
// (at h1Pos in the text; a byline such as "By Ann Lee · 5 min read · May
// 2, 2024"), else the one right before it (a kicker such as "Back to blog
// · May 2, 2024"); dates after a word such as "Updated" are skipped. It
// returns the zero time when there is none or no headline.
func (s *textScan) headlineDate(h1Pos int, b dateBounds, updates bool) time.Time {
	if h1Pos < 0 {
		return time.Time{}
	}
	// The headline's own line ends at the first line break after its text.
	rest := strings.TrimLeft(s.text[h1Pos:], "\n")
	i := strings.IndexByte(rest, '\n')
	if i < 0 {
		return time.Time{}
	}
	h1End := len(s.text) - len(rest) + i
	// A standfirst often sits between the headline and the byline: the
	// first line after the headline, when no longer than maxStandfirst,
	// does not count in the distance to a date after it.
	dekEnd := h1End
	dek := strings.TrimLeft(s.text[h1End:], " \t\r\n")
	if j := strings.IndexByte(dek, '\n'); j >= 0 && nonSpace(dek[:j], maxStandfirst) <= maxStandfirst {
		dekEnd = len(s.text) - len(dek) + j
	}
	var before time.Time
	for _, f := range s.found {
		if f.pos >= h1End {
			from := h1End
			if f.pos >= dekEnd {
				from = dekEnd
			}
			if nonSpace(s.text[from:f.pos], adjacentAfter) > adjacentAfter {
				break
			}
			if b.ok(f.t) && (updates || !s.modifiedCue(f.pos)) {
				return f.t
			}
			continue
		}
		if f.end <= h1Pos && h1Pos-f.end < adjacentWindow && b.ok(f.t) && (updates || !s.modifiedCue(f.pos)) &&
			nonSpace(s.text[f.end:h1Pos], adjacentBefore) <= adjacentBefore {
			before = f.t
		}
	}
	return before
}

// shownBefore returns the date the page shows for itself when it is
// earlier than the structured date pub (by more than any time zone
// explains) and the page shows pub's day nowhere or only as its update: a
// date element by the headline, a date in the text right next to it, a
// date labelled as the publication's, a time element marked as published.
// It returns the zero time otherwise.
func shownBefore(p *page, ld ldArticle, pub time.Time, parse func(string) time.Time, s *textScan, b dateBounds) time.Time {
	if s.days[dayOf(pub)] && !s.shownAsUpdate(dayOf(pub)) {
		return time.Time{}
	}
	near, _ := visibleDates(p, parse, false, nearH1)
	for _, d := range []time.Time{near, headlineDate(p, ld, b), s.labelledPublished(b), markedPublished(p, parse)} {
		if !d.IsZero() && dayOf(d).Before(dayOf(pub.Add(-12*time.Hour))) && !sameDay(swapDayMonth(d), pub) {
			return d
		}
	}
	return time.Time{}
}

// shownAfter returns the date the text shows right next to the headline
// (see headlineDate), even after a word such as "Updated", when it is
// later than the structured date pub (by more than any time zone
// explains), is not the structured modification day mod, and the page
// shows pub's day nowhere (in its text, its time elements or its URL) or
// only as its update: the page was dated anew by hand while its
// structured dates stayed the template's. It returns the zero time
// otherwise.
func shownAfter(p *page, ld ldArticle, pub, mod time.Time, urls []string, parse func(string) time.Time, s *textScan, b dateBounds) time.Time {
	if s.days[dayOf(pub)] && !s.shownAsUpdate(dayOf(pub)) {
		return time.Time{}
	}
	for _, u := range urls {
		if sameDay(urlDate(u), pub) {
			return time.Time{}
		}
	}
	for _, t := range p.times {
		if d := parse(t.value); !d.IsZero() && sameDay(d, pub) {
			return time.Time{}
		}
	}
	d := headlineDateOf(p, ld, b, false)
	if d.IsZero() || !dayOf(d).After(dayOf(pub.Add(12*time.Hour))) || (!mod.IsZero() && sameDay(d, mod)) || sameDay(swapDayMonth(d), pub) {
		return time.Time{}
	}
	return d
}

// swapDayMonth returns t's day with its day and month traded (the other
// reading of 09.10.2024), or the zero time when there is none.
func swapDayMonth(t time.Time) time.Time {
	if t.Day() > 12 || t.Day() == int(t.Month()) {
		return time.Time{}
	}
	return time.Date(t.Year(), time.Month(t.Day()), int(t.Month()), 0, 0, 0, 0, time.UTC)
}

// rxOriginalCue matches the words, right before a date, of a note that
// names when an updated article first appeared ("originally published
// on", "initialement publié en", "ursprünglich erschienen am").
var rxOriginalCue = regexp.MustCompile(originalCue)

// rxOriginalCueAt is rxOriginalCue anchored at the start of the text.
var rxOriginalCueAt = regexp.MustCompile(`^` + originalCue)

const originalCue = `(?i)(?:originally|initially|first|initialement|ursprünglich|zuerst|originalmente|inicialmente|inizialmente)\s+(?:published|posted|appeared|publié|publiée|paru|parue|veröffentlicht|erschienen|publicado|publicada|pubblicato|pubblicata)\W{0,6}(?:on|in|en|le|am|im|el|il|em|the)?\s*`

// originalCueStarts are the ASCII beginnings of rxOriginalCue's first
// words, in lower case; "urspr" stands for "ursprünglich".
var originalCueStarts = []string{"originally", "initially", "first", "initialement", "urspr", "zuerst", "originalmente", "inicialmente", "inizialmente"}

// originalCues returns the first n matches of rxOriginalCue in text
// (FindAllStringIndex's answer), several times faster: a case-insensitive
// regular expression without a literal prefix is tried at every byte,
// while this tries it only where one of its first words begins. Where a
// word's letters are not all ASCII (a case fold such as "ſ" for "s"), the
// expression decides.
func originalCues(text string, n int) [][]int {
	var out [][]int
	for i := 0; i < len(text) && len(out) < n; i++ {
		switch text[i] | 0x20 {
		case 'o', 'i', 'f', 'u', 'z':
		default:
			continue
		}
		if !cueStartAt(text[i:]) {
			continue
		}
		if loc := rxOriginalCueAt.FindStringIndex(text[i:]); loc != nil {
			out = append(out, []int{i, i + loc[1]})
			i += max(loc[1], 1) - 1
		}
	}
	return out
}

// cueStartAt reports whether s may begin with a first word of
// rxOriginalCue: it begins with one of originalCueStarts (ASCII letters
// in any case), or has a byte past ASCII where a word could differ.
func cueStartAt(s string) bool {
	for _, w := range originalCueStarts {
		if len(s) < len(w) {
			continue
		}
		match := true
		for j := 0; j < len(w); j++ {
			c := s[j]
			if c >= 0x80 {
				return true
			}
			if c|0x20 != w[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// original returns the full date after an "originally published" cue
// in the text.
func (s *textScan) original() (time.Time, bool) {
	for _, f := range s.found {
		before := s.text[max(0, f.pos-48):f.pos]
		for _, loc := range rxOriginalCue.FindAllStringIndex(before, -1) {
			if loc[1] == len(before) {
				return f.t, true
			}
		}
	}
	return time.Time{}, false
}

// notesOriginal reports whether the text says the article was
// originally published on pub's day or in its month ("initially
// published in April 2017").
func (s *textScan) notesOriginal(pub time.Time) bool {
	if t, ok := s.original(); ok {
		return sameDay(t, pub)
	}
	for _, loc := range originalCues(s.text, 4) {
		p := dateParser{toks: tokenize(s.text[loc[1]:min(len(s.text), loc[1]+40)], 8)}
		if m, k, ok := p.monthAt(0); ok {
			if y := p.at(k); y.kind == tokNum && atoi(y.val) == pub.Year() && m == pub.Month() {
				return true
			}
		}
	}
	return false
}

// shownAsUpdate reports whether the text shows day, and only after a word
// such as "Updated".
func (s *textScan) shownAsUpdate(day time.Time) bool {
	shown := false
	for _, f := range s.found {
		if dayOf(f.t).Equal(day) {
			if !s.modifiedCue(f.pos) {
				return false
			}
			shown = true
		}
	}
	return shown
}

// labelledPublished returns the first date the text shows after a word
// such as "Published" (and not "Updated"), or the zero time.
func (s *textScan) labelledPublished(b dateBounds) time.Time {
	for _, f := range s.found {
		if !b.ok(f.t) {
			continue
		}
		if before := s.lineBefore(f.pos); rxPublishedCue.MatchString(before) && !rxModifiedCue.MatchString(before) {
			return f.t
		}
	}
	return time.Time{}
}

// markedPublished returns the date of the first time element marked as
// published (pubdate, a "published" class) outside page furniture, or the
// zero time.
func markedPublished(p *page, parse func(string) time.Time) time.Time {
	for _, t := range p.times {
		if t.published && !t.discarded && !t.inLink {
			if d := parse(t.value); !d.IsZero() {
				return d
			}
		}
	}
	return time.Time{}
}

// modifiedCue reports whether the date at pos follows a word such as
// "Updated" on its line.
func (s *textScan) modifiedCue(pos int) bool {
	return rxModifiedCue.MatchString(s.lineBefore(pos))
}

// lineBefore returns up to 48 bytes of text before pos: those on its
// line, or those of the line before when pos starts a line (a label on
// its own line: "Updated:\nMay 2, 2024").
func (s *textScan) lineBefore(pos int) string {
	before := s.text[max(0, pos-48):pos]
	if i := strings.LastIndexByte(before, '\n'); i >= 0 && strings.TrimSpace(before[i+1:]) != "" {
		before = before[i+1:]
	}
	return before
}

// nonSpace counts the bytes of s that are not white space, stopping once
// the count passes limit.
func nonSpace(s string, limit int) int {
	n := 0
	for i := 0; i < len(s) && n <= limit; i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

// titlePos returns the headline's start in the page's text when the
// page's first <h1> is the article's headline (it shares most of its words
// with the title the metadata gives, and is not the site's name), else -1.
func (p *page) titlePos(ld ldArticle) int {
	if !p.h1Seen || isSiteName(p.h1, p.meta("og:site_name"), "") {
		return -1
	}
	h := words(p.h1)
	for _, t := range []string{p.titleTag, p.meta("og:title"), ld.headline} {
		if dice(h, words(t)) >= minHeadlineDice {
			return p.h1Pos
		}
	}
	return -1
}

// minHeadlineDice is how much of its words an <h1> must share with the
// metadata's title to be taken for the article's headline.
const minHeadlineDice = 0.4

// headlinePos returns the headline's start in the page's text, or -1.
func (p *page) headlinePos() int {
	if p.h1Seen {
		return p.h1Pos
	}
	return -1
}

// showsNear reports whether the text shows day in the headline's
// neighbourhood (h1Pos: the headline's start in the text): from
// nearHeadline bytes before it to twice that after. Without a headline
// any place counts.
func (s *textScan) showsNear(day time.Time, h1Pos int) bool {
	for _, f := range s.found {
		if dayOf(f.t).Equal(day) && (h1Pos < 0 || (f.pos >= h1Pos-nearHeadline && f.pos < h1Pos+2*nearHeadline)) {
			return true
		}
	}
	return false
}

// nearHeadline is how far after the headline's start (in bytes of text) a
// date is taken for the article's own.
const nearHeadline = 1000

// copyrightYear returns the year after "©" or "Copyright" in the text (the
// latest of a range), or 0.
func copyrightYear(toks []token, b dateBounds) int {
	best := 0
	for i, t := range toks {
		if !(t.val == "©" || t.val == "copyright" || (t.val == "(" && i+2 < len(toks) && toks[i+1].val == "c" && toks[i+2].val == ")")) {
			continue
		}
		for j := i + 1; j < len(toks) && j < i+6; j++ {
			if toks[j].kind == tokNum && len(toks[j].val) == 4 {
				y := atoi(toks[j].val)
				if y >= minYear && y <= b.max.Year() && y > best {
					best = y
				}
			}
		}
	}
	return best
}
