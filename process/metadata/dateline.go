package metadata

import (
	"regexp"
	"strings"
	"time"
	"unicode"
)

// A dateline opens a wire story: a place in capitals, maybe a date, maybe
// the credited agencies in parentheses, then a dash.
var (
	// "WASHINGTON", "NEW YORK", "SAN FRANCISCO, Calif.", "ST. LOUIS".
	rxDatelinePlace = regexp.MustCompile(`^([\p{Lu}][\p{Lu}\p{M}.'’\-]*(?:\s+[\p{Lu}][\p{Lu}\p{M}.'’\-]*){0,3})(?:,\s+([\p{Lu}][\p{L}.]+(?:\s[\p{Lu}][\p{L}.]+)?))?`)
	// "Washington (CNN) —" : a place not in capitals needs the agency.
	rxDatelineTitlePlace = regexp.MustCompile(`^([\p{Lu}][\p{Ll}\p{M}.'’\-]+(?:\s+[\p{Lu}][\p{Ll}\p{M}.'’\-]+){0,2})\s*\(`)
	rxDatelineDash       = regexp.MustCompile(`^\s*(?:--|[-–—])\s*`)
	rxSourceSplit        = regexp.MustCompile(`\s*(?:/|,|;|\band\b|&)\s*`)
)

// Dateline is the place, credited sources and date that open a wire story.
type Dateline struct {
	Place   string
	Sources []string
	Date    time.Time // zero if the dateline has none
}

// ParseDateline reads the dateline that opens a story's first paragraph, as
// in "WASHINGTON (UrduPoint News / Sputnik - 22nd July, 2019) Chinese ...",
// "LONDON (Reuters) -", "PARIS, March 3 (AFP) -", "NEW YORK —" or
// "BERLIN, 12. März (dpa) -". ok is false when the paragraph does not open
// with one.
func ParseDateline(paragraph string) (d Dateline, ok bool) {
	s := strings.TrimSpace(paragraph)
	if len(s) > 400 {
		s = s[:400]
	}
	var rest string
	strictSources := false
	if m := rxDatelinePlace.FindStringSubmatchIndex(s); m != nil && countLetters(s[m[2]:m[3]]) >= 2 && isCapsPlace(s[m[2]:m[3]]) {
		d.Place = strings.TrimRight(s[m[2]:m[3]], ".-")
		if notPlaces[d.Place] {
			return Dateline{}, false
		}
		if m[4] >= 0 && !knownRegion(s[m[4]:m[5]]) {
			// ", March 3": not a region but a date; read below.
			rest = s[m[3]:]
			if _, ok := months[strings.ToLower(strings.TrimRight(s[m[4]:m[5]], "."))]; !ok {
				return Dateline{}, false
			}
		} else {
			rest = s[m[1]:]
			if m[4] >= 0 {
				if region := s[m[4]:m[5]]; rxDomainLike.MatchString(region) {
					// "JAKARTA, KOMPAS.com -": the site credits itself.
					d.Sources = append(d.Sources, region)
					if rxDatelineDash.FindStringIndex(rest) == nil {
						return Dateline{}, false
					}
				} else {
					d.Place += ", " + region
				}
			}
		}
	} else if m := rxDatelineTitlePlace.FindStringSubmatchIndex(s); m != nil {
		d.Place = s[m[2]:m[3]]
		rest = s[m[3]:]
		if !strings.HasPrefix(strings.TrimSpace(rest), "(") {
			return Dateline{}, false
		}
		// "Rostow (Russland) -" is a place and its country; only a
		// known agency makes "Washington (CNN) —" a dateline.
		strictSources = true
	} else {
		return Dateline{}, false
	}
	// An optional date after a comma: ", March 3", ", 12. März", ", July 22, 2019".
	if strings.HasPrefix(rest, ",") {
		seg := rest[1:]
		end := strings.IndexAny(seg, "(-–—:")
		if end < 0 || end > 40 {
			return Dateline{}, false
		}
		date := strings.TrimSpace(seg[:end])
		if !hasMonthWord(date) {
			return Dateline{}, false
		}
		d.Date = parseDatelineDate(date)
		rest = seg[end:]
	}
	rest = strings.TrimLeft(rest, " \u00a0")
	hadParens := false
	if strings.HasPrefix(rest, "(") {
		end := strings.IndexByte(rest, ')')
		if end < 0 || end > 120 {
			return Dateline{}, false
		}
		inner := rest[1:end]
		srcPart, datePart := inner, ""
		for _, sep := range []string{" - ", " – ", " — ", ", "} {
			if i := strings.Index(inner, sep); i >= 0 && hasDigit(inner[i:]) {
				srcPart, datePart = inner[:i], inner[i+len(sep):]
				break
			}
		}
		for _, src := range rxSourceSplit.Split(srcPart, -1) {
			src = strings.TrimSpace(src)
			if src == "" {
				continue
			}
			if len(src) > 40 || hasDigit(src) || len(strings.Fields(src)) > 4 || (strictSources && !isAgency(src)) {
				return Dateline{}, false
			}
			d.Sources = append(d.Sources, src)
		}
		if len(d.Sources) == 0 {
			return Dateline{}, false
		}
		if datePart != "" {
			if t := parseDatelineDate(datePart); !t.IsZero() {
				d.Date = t
			}
		}
		rest = rest[end+1:]
		hadParens = true
	}
	dash := rxDatelineDash.FindStringIndex(rest)
	if dash == nil && !hadParens {
		return Dateline{}, false
	}
	if dash == nil && strings.TrimSpace(rest) != "" {
		// "WASHINGTON (Agency - date) Chinese ...": the text goes on right
		// after the parenthesis; it must start like a sentence.
		if r := []rune(strings.TrimSpace(rest)); !unicode.IsUpper(r[0]) && !unicode.IsDigit(r[0]) && r[0] != '"' && r[0] != '“' {
			return Dateline{}, false
		}
	}
	if d.Place == "" {
		return Dateline{}, false
	}
	return d, true
}

// notPlaces are words in capitals that open a paragraph without being a
// dateline's place.
var notPlaces = map[string]bool{
	"BREAKING": true, "UPDATE": true, "UPDATED": true, "EXCLUSIVE": true, "WATCH": true, "LIVE": true,
	"OPINION": true, "ANALYSIS": true, "PHOTOS": true, "VIDEO": true, "EDITOR'S NOTE": true, "NOTE": true,
	"CORRECTION": true, "FILE": true, "ADVERTISEMENT": true, "READ MORE": true, "UPDATE:": true,
}

// wireServices are agencies and broadcasters that datelines credit.
var wireServices = map[string]bool{
	"reuters": true, "ap": true, "afp": true, "dpa": true, "upi": true, "ani": true, "pti": true, "ians": true,
	"xinhua": true, "tass": true, "ria": true, "sputnik": true, "kna": true, "epd": true, "apa": true, "sda": true,
	"efe": true, "ansa": true, "kyodo": true, "yonhap": true, "bloomberg": true, "cnn": true, "bbc": true,
	"aap": true, "cp": true, "anp": true, "belga": true, "ctk": true, "pap": true, "mti": true, "bna": true,
	"wafa": true, "irna": true, "anadolu": true, "kbs": true, "abc": true, "nbc": true, "cbs": true,
}

// isAgency reports whether src names a wire service: a known one, a name
// in capitals ("KGO", "AFP"), or one calling itself news, press or agency.
func isAgency(src string) bool {
	l := strings.ToLower(src)
	if wireServices[l] || strings.Contains(l, "news") || strings.Contains(l, "press") || strings.Contains(l, "agency") || strings.Contains(l, "agentur") {
		return true
	}
	return countLetters(src) >= 2 && isCapsPlace(src)
}

// isCapsPlace reports whether s is written in capitals (a dateline place),
// not a word such as "I" or an acronym run into a sentence.
func isCapsPlace(s string) bool {
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}

func countLetters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

func hasMonthWord(s string) bool {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if _, ok := months[strings.ToLower(w)]; ok {
			return true
		}
	}
	return false
}

// knownRegion reports whether s (after a place and a comma) is a region
// such as "Calif." rather than the start of a date.
func knownRegion(s string) bool {
	_, isMonth := months[strings.ToLower(strings.TrimRight(s, "."))]
	return !isMonth
}

// parseDatelineDate reads a dateline's date; one without a year is not
// returned (zero), since its year is not known.
func parseDatelineDate(s string) time.Time {
	if t, _, ok := parseDate(s, true); ok {
		return t
	}
	return time.Time{}
}
