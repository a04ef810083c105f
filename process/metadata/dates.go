package metadata

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// minYear is the earliest year a web page's own date can plausibly have.
const minYear = 1995

// precision says how much of a date a text gave.
type precision int

const (
	precDay  precision = iota + 1 // year, month and day
	precTime                      // and a time of day
)

// foundDate is one date found in a text.
type foundDate struct {
	t    time.Time
	prec precision
	pos  int // byte offset of the date's first token in the text
	end  int // byte offset just past the date (and its time of day)
	// ambiguous is set for a numeric date whose day and month could
	// trade places (03/04/2019).
	ambiguous bool
}

// tokKind is the kind of a date token.
type tokKind uint8

const (
	tokNum tokKind = iota + 1
	tokWord
	tokSep
)

// token is a run of digits, a run of letters or one other visible rune.
type token struct {
	val string // lower-cased for words
	// start and end are the token's bytes in the text (int32 and the
	// fields in this order: a smaller token, a text has many).
	start, end int32
	kind       tokKind
	space      bool // white space precedes the token
}

// maxTokens bounds the work done on one text.
const maxTokens = 200000

// tokenize splits s into date tokens.
func tokenize(s string, limit int) []token {
	// Words and numbers with a space take five bytes or more on
	// average: one allocation mostly.
	return appendTokens(make([]token, 0, min(len(s)/5+4, limit)), s, limit)
}

// appendTokens appends the date tokens of s to toks, until toks holds
// limit tokens.
func appendTokens(toks []token, s string, limit int) []token {
	s = s[:min(len(s), math.MaxInt32)] // positions are int32
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
			lower := true // the word is lower-case ASCII
		word:
			for j < len(s) {
				if c := s[j]; c < utf8.RuneSelf {
					// ASCII: what the general case below does, without
					// decoding.
					switch {
					case 'a' <= c && c <= 'z':
					case 'A' <= c && c <= 'Z':
						if unicode.IsLower(prev) {
							break word
						}
						lower = false
					default:
						break word
					}
					prev = rune(c)
					j++
					continue
				}
				r2, w2 := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) || (j > i && isCJKDateWord(r2)) {
					break
				}
				// Words glued by the markup ("HealthDECEMBER", "SmithMar")
				// part where a lower-case letter meets an upper-case one.
				if unicode.IsLower(prev) && unicode.IsUpper(r2) {
					break
				}
				lower = false
				prev = r2
				j += w2
				if isCJKDateWord(r2) {
					break
				}
			}
			val := s[i:j]
			if !lower {
				val = strings.ToLower(val)
			}
			toks = append(toks, token{kind: tokWord, val: val, start: int32(i), end: int32(j), space: space})
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

// A date's tokens, and a copyright notice's up to its year, lie within
// nearDigits words (runs of text between white space) before its first
// digit and after its last: "Wednesday, 17 September 2025 at 10:30 am
// EST", "© 2025 Example News". Words count fewer than the tokens they
// hold, never more.
const nearDigits = 8

// appendNearDigits appends to toks the date tokens of the stretches of s
// around its digits, as appendTokens would find them in the whole of s,
// until toks holds limit tokens. A stretch starts and ends at white space,
// so that its tokens are those of s, and a separator no date form accepts
// (gapToken) stands for the text left out between two stretches. Prose
// holds few digits: on news pages the stretches are about a third of the
// text, and tokens cost more than the byte scan that finds them.
func appendNearDigits(toks []token, s string, limit int) []token {
	s = s[:min(len(s), math.MaxInt32)] // positions are int32
	from := 0                          // s[:from] is tokenized or left out
	for len(toks) < limit {
		j := strings.IndexAny(s[from:], digits)
		if j < 0 {
			break
		}
		a := wordsBack(s, from+j, from)
		last, b := from+j, 0 // the stretch's last digits end at last
		for {
			for last < len(s) && s[last] >= '0' && s[last] <= '9' {
				last++
			}
			b = wordsOn(s, last)
			k := strings.IndexAny(s[last:b], digits)
			if k < 0 {
				break
			}
			last += k
		}
		if a > from && len(toks) > 0 {
			toks = append(toks, gapToken(from))
		}
		n := len(toks)
		toks = appendTokens(toks, s[a:b], limit)
		for k := n; k < len(toks); k++ {
			toks[k].start += int32(a)
			toks[k].end += int32(a)
		}
		from = b
	}
	return toks
}

// digits are the ASCII digits, for strings.IndexAny.
const digits = "0123456789"

// wordsBack returns where the nearDigits words before s[i] begin, at
// white space, or from if that comes first.
func wordsBack(s string, i, from int) int {
	for w := 0; w < nearDigits && i > from; w++ {
		for i > from && !isASCIISpace(s[i-1]) {
			i--
		}
		for i > from && isASCIISpace(s[i-1]) {
			i--
		}
	}
	return i
}

// wordsOn returns where the nearDigits words from s[i] on end, at white
// space or at the end of s.
func wordsOn(s string, i int) int {
	for w := 0; w < nearDigits && i < len(s); w++ {
		for i < len(s) && isASCIISpace(s[i]) {
			i++
		}
		for i < len(s) && !isASCIISpace(s[i]) {
			i++
		}
	}
	return i
}

// gapToken stands, at position at, for text appendNearDigits left out.
func gapToken(at int) token {
	return token{kind: tokSep, val: "\x00", start: int32(at), end: int32(at), space: true}
}

func isASCIISpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' }

func isCJKDateWord(r rune) bool { return r == '年' || r == '月' || r == '日' }

func lowerASCIIish(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || (c >= 'A' && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}

// months maps month names and abbreviations in the languages news sites
// use most to month numbers.
var months = func() map[string]time.Month {
	m := map[string]time.Month{}
	add := func(month time.Month, names ...string) {
		for _, n := range names {
			m[n] = month
		}
	}
	add(time.January, "january", "jan", "januar", "jänner", "jän", "janvier", "janv", "enero", "ene", "gennaio", "gen", "janeiro", "januari", "styczeń", "stycznia", "leden", "ledna", "ocak")
	add(time.February, "february", "feb", "febr", "februar", "février", "fevrier", "févr", "fév", "febrero", "febbraio", "fevereiro", "fev", "februari", "luty", "lutego", "únor", "února", "şubat")
	add(time.March, "march", "mar", "märz", "maerz", "mär", "mrz", "mars", "marzo", "março", "marco", "maart", "mrt", "marzec", "marca", "březen", "března", "mart")
	add(time.April, "april", "apr", "avril", "avr", "abril", "abr", "aprile", "kwiecień", "kwietnia", "duben", "dubna", "nisan")
	add(time.May, "may", "mai", "mayo", "maggio", "mag", "maio", "mei", "maj", "maja", "květen", "května", "mayıs")
	add(time.June, "june", "jun", "juni", "juin", "junio", "giugno", "giu", "junho", "czerwiec", "czerwca", "červen", "června", "haziran")
	add(time.July, "july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho", "lipiec", "lipca", "červenec", "července", "temmuz")
	add(time.August, "august", "aug", "août", "aout", "agosto", "ago", "augustus", "sierpień", "sierpnia", "srpen", "srpna", "ağustos")
	add(time.September, "september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set", "setembro", "wrzesień", "września", "září", "eylül")
	add(time.October, "october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "ott", "outubro", "out", "październik", "października", "říjen", "října", "ekim")
	add(time.November, "november", "nov", "novembre", "noviembre", "novembro", "listopad", "listopada", "kasım")
	add(time.December, "december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic", "dicembre", "dezembro", "grudzień", "grudnia", "prosinec", "prosince", "aralık")
	return m
}()

// zones are the zone abbreviations whose offset is unambiguous enough.
var zones = map[string]int{
	"utc": 0, "gmt": 0, "z": 0, "wet": 0, "bst": 3600, "cet": 3600, "mez": 3600, "cest": 7200, "mesz": 7200,
	"eet": 7200, "eest": 10800, "est": -5 * 3600, "edt": -4 * 3600, "cst": -6 * 3600, "cdt": -5 * 3600,
	"mst": -7 * 3600, "mdt": -6 * 3600, "pst": -8 * 3600, "pdt": -7 * 3600, "jst": 9 * 3600, "kst": 9 * 3600,
	"aest": 10 * 3600, "aedt": 11 * 3600, "pkt": 5 * 3600,
}

// ordinal suffixes after a day number.
func isOrdinal(w string) bool {
	switch w {
	case "st", "nd", "rd", "th", "er", "e", "º", "o", "te", "ten":
		return true
	}
	return false
}

func atoi(s string) int {
	if len(s) > 9 {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// dateParser finds dates in a token stream.
type dateParser struct {
	toks []token
	// dayFirst reads 03/04/2019 as 3 April (true) or March 4 (false) when
	// both are possible. Dots always mean day first.
	dayFirst bool
}

func (p *dateParser) at(i int) token {
	if i < 0 || i >= len(p.toks) {
		return token{}
	}
	return p.toks[i]
}

func (p *dateParser) isSep(i int, seps string) bool {
	t := p.at(i)
	return t.kind == tokSep && !t.space && strings.Contains(seps, t.val)
}

// validDate builds a date, or reports false when it does not exist.
func validDate(y, m, d int) (time.Time, bool) {
	if y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// dateAt tries to read a date starting at token i. It returns the date and
// the index of the first token after it.
func (p *dateParser) dateAt(i int) (time.Time, int, bool) {
	t := p.at(i)
	switch t.kind {
	case tokNum:
		n := atoi(t.val)
		switch len(t.val) {
		case 4: // 2019-07-22, 2019/07/22, 2019.07.22, 2019年7月22日
			if p.isSep(i+1, "-/.") && p.tight(i+2, 2) && p.isSep(i+3, p.at(i+1).val) && p.tight(i+4, 2) {
				if d, ok := validDate(n, atoi(p.at(i+2).val), atoi(p.at(i+4).val)); ok {
					return d, i + 5, true
				}
			}
			if p.at(i+1).val == "年" && p.at(i+2).kind == tokNum && p.at(i+3).val == "月" && p.at(i+4).kind == tokNum && p.at(i+5).val == "日" {
				if d, ok := validDate(n, atoi(p.at(i+2).val), atoi(p.at(i+4).val)); ok {
					return d, i + 6, true
				}
			}
		case 8: // 20190722, only when nothing else is glued to it
			if !p.glued(i) {
				if d, ok := validDate(n/10000, n/100%100, n%100); ok && n/10000 >= minYear {
					return d, i + 1, true
				}
			}
		case 1, 2:
			// 22.07.2019, 22/07/2019, 07/22/2019, 22-07-2019, 22.07.19
			if p.isSep(i+1, "./-") && p.tight(i+2, 2) && p.isSep(i+3, p.at(i+1).val) &&
				(p.tight(i+4, 4) && len(p.at(i+4).val) >= 2 && len(p.at(i+4).val) != 3) && (len(p.at(i+4).val) == 4 || p.at(i+1).val != "-") {
				a, b, y := n, atoi(p.at(i+2).val), atoi(p.at(i+4).val)
				if y < 100 {
					y += 2000
					if y > time.Now().Year()+1 {
						y -= 100
					}
				}
				dayFirst := p.dayFirst || p.at(i+1).val == "."
				if !dayFirst && a > 12 {
					dayFirst = true
				} else if dayFirst && b > 12 && a <= 12 && p.at(i+1).val != "." {
					dayFirst = false
				}
				if !dayFirst {
					a, b = b, a
				}
				if d, ok := validDate(y, b, a); ok {
					return d, i + 5, true
				}
				return time.Time{}, 0, false
			}
			// 22 July 2019, 22. Juli 2019, 22nd of July, 2019, 22 de julio de 2019
			j := i + 1
			if p.isSep(j, ".") {
				j++
			}
			if w := p.at(j); w.kind == tokWord && isOrdinal(w.val) && !w.space {
				j++
			}
			if w := p.at(j); w.kind == tokWord && (w.val == "of" || w.val == "de") {
				j++
			}
			if m, k, ok := p.monthAt(j); ok {
				if p.isSep(k, ",") {
					k++
				}
				if w := p.at(k); w.kind == tokWord && (w.val == "de" || w.val == "del") {
					k++
				}
				if y := p.at(k); y.kind == tokNum && len(y.val) == 4 {
					if d, ok := validDate(atoi(y.val), int(m), n); ok {
						return d, k + 1, true
					}
				}
			}
		}
	case tokWord:
		// July 22, 2019, Jul. 22nd 2019
		if m, k, ok := p.monthAt(i); ok {
			if d := p.at(k); d.kind == tokNum && len(d.val) <= 2 {
				k++
				if w := p.at(k); w.kind == tokWord && isOrdinal(w.val) && !w.space {
					k++
				}
				if p.isSep(k, ",.") {
					k++
				}
				if y := p.at(k); y.kind == tokNum && len(y.val) == 4 {
					if dt, ok := validDate(atoi(y.val), int(m), atoi(d.val)); ok {
						return dt, k + 1, true
					}
				}
			}
		}
	}
	return time.Time{}, 0, false
}

// ambiguousAt reports whether a numeric date starting at token i reads
// as well day first as month first: two numbers up to 12, different,
// separated by a slash or a hyphen (dots always mean day first).
func (p *dateParser) ambiguousAt(i int) bool {
	a, sep, b := p.at(i), p.at(i+1), p.at(i+2)
	if a.kind != tokNum || len(a.val) > 2 || sep.kind != tokSep || (sep.val != "/" && sep.val != "-") || b.kind != tokNum {
		return false
	}
	x, y := atoi(a.val), atoi(b.val)
	return x >= 1 && x <= 12 && y >= 1 && y <= 12 && x != y
}

// tight reports whether token i is a number of at most n digits with no
// space before it.
func (p *dateParser) tight(i, n int) bool {
	t := p.at(i)
	return t.kind == tokNum && !t.space && len(t.val) <= n
}

// glued reports whether token i touches a letter or digit on either side,
// as in an id or a file name.
func (p *dateParser) glued(i int) bool {
	prev, next := p.at(i-1), p.at(i+1)
	return (prev.kind != 0 && !p.at(i).space && prev.kind != tokSep) ||
		(next.kind != 0 && !next.space && (next.kind != tokSep || next.val == "_" || next.val == "-"))
}

// monthAt reads a month name at token i, with an optional trailing dot.
func (p *dateParser) monthAt(i int) (time.Month, int, bool) {
	t := p.at(i)
	if t.kind != tokWord {
		return 0, 0, false
	}
	m, ok := months[t.val]
	if !ok {
		return 0, 0, false
	}
	i++
	if p.isSep(i, ".") {
		i++
	}
	return m, i, true
}

// timeAt reads an optional time of day (and zone) starting at token i:
// "14:05", "14:05:00.123+05:00", "T14:05Z", "2:05 PM", "um 14.05 Uhr".
// It returns the date with that time and the index after it.
func (p *dateParser) timeAt(d time.Time, i int) (time.Time, int, bool) {
	j := i
	// Connectors between a date and its time.
	for k := 0; k < 2; k++ {
		t := p.at(j)
		if t.kind == tokWord && (t.val == "t" || t.val == "at" || t.val == "um" || t.val == "à" || t.val == "a" || t.val == "alle" || t.val == "às" || t.val == "om" || t.val == "kl") {
			j++
		} else if t.kind == tokSep && (t.val == "," || t.val == "|" || t.val == "-" || t.val == "–" || t.val == "/" || t.val == "•" || t.val == "·") {
			j++
		}
	}
	h := p.at(j)
	if h.kind != tokNum || len(h.val) > 2 || !(p.isSep(j+1, ":") || (p.isSep(j+1, ".") && p.at(j+3).val == "uhr")) {
		return d, i, false
	}
	mi := p.at(j + 2)
	if mi.kind != tokNum || len(mi.val) != 2 {
		return d, i, false
	}
	hour, minute, sec, nsec := atoi(h.val), atoi(mi.val), 0, 0
	j += 3
	if p.isSep(j, ":") && p.at(j+1).kind == tokNum && len(p.at(j+1).val) == 2 {
		sec = atoi(p.at(j + 1).val)
		j += 2
		if p.isSep(j, ".,") && p.at(j+1).kind == tokNum && !p.at(j+1).space {
			frac := p.at(j + 1).val
			if len(frac) > 9 {
				frac = frac[:9]
			}
			nsec = atoi(frac + strings.Repeat("0", 9-len(frac)))
			j += 2
		}
	}
	if w := p.at(j); w.kind == tokWord && (w.val == "pm" || w.val == "am" || w.val == "p" || w.val == "a") {
		if w.val == "p" || w.val == "a" { // p.m.
			if !p.isSep(j+1, ".") || p.at(j+2).val != "m" {
				goto zone
			}
			j += 2
			if p.isSep(j+1, ".") {
				j++
			}
		}
		if hour > 12 || hour == 0 {
			return d, i, false
		}
		if w.val[0] == 'p' && hour < 12 {
			hour += 12
		} else if w.val[0] == 'a' && hour == 12 {
			hour = 0
		}
		j++
	}
zone:
	if hour > 23 || minute > 59 || sec > 60 {
		return d, i, false
	}
	if w := p.at(j); w.kind == tokWord && w.val == "uhr" {
		j++
	}
	loc := time.UTC
	z := p.at(j)
	if z.kind == tokWord {
		if off, ok := zones[z.val]; ok {
			j++
			loc = time.FixedZone("", off)
			if z.val == "utc" || z.val == "gmt" || z.val == "z" {
				if o, k, ok := p.offsetAt(j); ok {
					loc, j = time.FixedZone("", o), k
				} else {
					loc = time.UTC
				}
			}
		}
	} else if o, k, ok := p.offsetAt(j); ok {
		loc, j = time.FixedZone("", o), k
	}
	return time.Date(d.Year(), d.Month(), d.Day(), hour, minute, sec, nsec, loc), j, true
}

// offsetAt reads "+05:00", "+0500" or "-05" at token i.
func (p *dateParser) offsetAt(i int) (int, int, bool) {
	s := p.at(i)
	if s.kind != tokSep || (s.val != "+" && s.val != "-" && s.val != "−") {
		return 0, 0, false
	}
	n := p.at(i + 1)
	if n.kind != tokNum || n.space {
		return 0, 0, false
	}
	var h, m int
	j := i + 2
	switch len(n.val) {
	case 4:
		h, m = atoi(n.val[:2]), atoi(n.val[2:])
	case 1, 2:
		h = atoi(n.val)
		if p.isSep(j, ":") && p.at(j+1).kind == tokNum && len(p.at(j+1).val) == 2 {
			m = atoi(p.at(j + 1).val)
			j += 2
		}
	default:
		return 0, 0, false
	}
	if h > 14 || m > 59 {
		return 0, 0, false
	}
	off := h*3600 + m*60
	if s.val != "+" {
		off = -off
	}
	return off, j, true
}

// find returns the dates in the tokens, in order, at most max of them.
func (p *dateParser) find(max int) []foundDate {
	var out []foundDate
	for i := 0; i < len(p.toks) && len(out) < max; i++ {
		t := p.toks[i]
		if t.kind == tokSep {
			continue
		}
		// A number glued to letters or digits before it starts no date.
		if t.kind == tokNum && i > 0 && !t.space && p.toks[i-1].kind == tokWord && len(p.toks[i-1].val) > 1 {
			continue
		}
		d, next, ok := p.dateAt(i)
		if !ok {
			continue
		}
		f := foundDate{t: d, prec: precDay, pos: int(t.start), ambiguous: p.ambiguousAt(i)}
		if dt, k, ok := p.timeAt(d, next); ok {
			f.t, f.prec, next = dt, precTime, k
		}
		f.end = int(p.at(next - 1).end)
		out = append(out, f)
		i = next - 1
	}
	return out
}

// parseDate reads the first date in s (an attribute value or a short text):
// ISO 8601 and RFC 3339, RFC 1123, numeric day-month-year forms, and dates
// with month names in several languages ("12. März 2019", "July 22, 2019",
// "22nd July, 2019"). See the package documentation for time zones.
func parseDate(s string, dayFirst bool) (time.Time, precision, bool) {
	f, ok := parseFirstDate(s, dayFirst)
	return f.t, f.prec, ok
}

// parseFirstDate is parseDate, with what it knows of the date found (see
// foundDate.ambiguous).
func parseFirstDate(s string, dayFirst bool) (foundDate, bool) {
	if len(s) > 200 {
		s = s[:200]
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return foundDate{}, false
	}
	// Unix timestamps, in seconds or milliseconds.
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && (len(s) == 10 || len(s) == 13) {
		if len(s) == 13 {
			n /= 1000
		}
		return foundDate{t: time.Unix(n, 0).UTC(), prec: precTime}, true
	}
	p := dateParser{toks: tokenize(s, 64), dayFirst: dayFirst}
	f := p.find(1)
	if len(f) == 0 {
		return foundDate{}, false
	}
	return f[0], true
}

// ParseDate reads the first date in s, as found in meta tags, time elements
// and bylines. Numeric dates are read day first (22/07/2019) unless only
// month first can be right. ok is false when s holds no full date.
func ParseDate(s string) (t time.Time, ok bool) {
	t, _, ok = parseDate(s, true)
	return t, ok
}
