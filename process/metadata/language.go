package metadata

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// Languages whose three-letter or legacy codes pages declare instead of
// ISO 639-1.
var langAliases = map[string]string{
	"eng": "en", "deu": "de", "ger": "de", "fra": "fr", "fre": "fr", "spa": "es", "ita": "it",
	"por": "pt", "nld": "nl", "dut": "nl", "rus": "ru", "pol": "pl", "ces": "cs", "cze": "cs",
	"tur": "tr", "ara": "ar", "zho": "zh", "chi": "zh", "jpn": "ja", "kor": "ko", "swe": "sv",
	"dan": "da", "nor": "no", "nob": "nb", "fin": "fi", "ukr": "uk", "ell": "el", "gre": "el",
	"iw": "he", "in": "id", "ji": "yi", "urd": "ur", "hin": "hi",
	"english": "en", "german": "de", "deutsch": "de", "french": "fr", "spanish": "es",
}

// normalizeLang turns a declared language ("en-US", "de_DE", "deu") into
// its ISO 639-1 code, or "" when it names none.
func normalizeLang(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "-_,; "); i >= 0 {
		s = s[:i]
	}
	if a, ok := langAliases[s]; ok {
		return a
	}
	if len(s) != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' {
		return ""
	}
	return s
}

// Text shorter than minDetect runes is too short to overrule a declaration,
// and detection reads at most maxDetect bytes.
const (
	minDetect = 200
	maxDetect = 1500
	// overrule is the confidence the detector needs to overrule the page.
	overrule = 0.5
	// longText is the length from which an undeclared page takes the
	// detector's answer whatever its confidence.
	longText = 1000
)

// stopwordLangs are the commonest words of the languages most pages
// declare, each word with the set of languages (by their index in
// stopwordOrder) it is common in.
var stopwordOrder = []string{"en", "de", "fr", "es", "it", "pt", "nl"}

var stopwordLangs = wordLangs(map[string]string{
	"en": "the of and to in is that for it was on with as are by this be at from have has not",
	"de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat dass sie nach wird bei",
	"fr": "le la les de des et en un une du est que qui dans pour pas au sur par plus ne se ce il sont avec",
	"es": "el la de que y en los del se las por un una con no es para al lo como más su",
	"it": "il di che la e è per un in non una del della con le si da sono al gli dei ha",
	"pt": "de que o a e do da em um para é com não uma os no se na por mais as dos",
	"nl": "de het een en van in is dat op te zijn met voor niet aan er die ook als bij",
})

func wordLangs(lists map[string]string) map[string]uint8 {
	m := map[string]uint8{}
	for i, lang := range stopwordOrder {
		for _, w := range strings.Fields(lists[lang]) {
			m[w] |= 1 << i
		}
	}
	return m
}

// stopwordsAgree reports whether text is plainly in the declared
// language: its commonest words are a good share of the text's words and
// well ahead of any other language's.
func stopwordsAgree(declared, text string) bool {
	li := slices.Index(stopwordOrder, declared)
	if li < 0 {
		return false
	}
	var counts [8]int
	words := 0
	var buf [16]byte
	for rest := text; rest != ""; {
		// The words are the runs of letters.
		w := rest
		start := -1
		for i := 0; i < len(rest); {
			r, size := rune(rest[i]), 1
			if r >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(rest[i:])
			}
			letter := unicode.IsLetter(r)
			if letter && start < 0 {
				start = i
			} else if !letter && start >= 0 {
				w, rest = rest[start:i], rest[i:]
				break
			}
			i += size
			if i == len(rest) {
				if start < 0 {
					w = ""
				} else {
					w = rest[start:]
				}
				rest = ""
			}
		}
		if w == "" {
			break
		}
		words++
		var set uint8
		if lw, ok := lowerShort(w, buf[:]); ok {
			set = stopwordLangs[string(lw)]
		} else {
			set = stopwordLangs[strings.ToLower(w)]
		}
		for i := 0; set != 0; i, set = i+1, set>>1 {
			if set&1 != 0 {
				counts[i]++
			}
		}
	}
	n := counts[li]
	if words < 30 || n*100 < words*15 {
		return false
	}
	for i, c := range counts {
		if i != li && 2*c > n {
			return false
		}
	}
	return true
}

// lowerShort writes the ASCII word w lower-cased into buf, when it fits:
// ok is false for a longer word or one that is not ASCII.
func lowerShort(w string, buf []byte) (lw []byte, ok bool) {
	if len(w) > len(buf) {
		return nil, false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= utf8.RuneSelf:
			return nil, false
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf[:len(w)], true
}

// hasKana reports whether s has Hiragana or Katakana.
func hasKana(s string) bool {
	for _, r := range s {
		if unicode.In(r, unicode.Hiragana, unicode.Katakana) {
			return true
		}
	}
	return false
}

// Language returns the ISO 639-1 code of text, checked against the declared
// code: the declaration wins unless the text is clearly in another language.
// With no declaration, the detector's answer is taken when it is reliable.
func Language(declared, text string) string {
	declared = normalizeLang(declared)
	if len(text) > maxDetect {
		cut := maxDetect
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	if utf8.RuneCountInString(text) < minDetect {
		return declared
	}
	if declared != "" && stopwordsAgree(declared, text) {
		return declared // cheap and certain: no need for the detector
	}
	info := whatlanggo.Detect(text)
	detected := info.Lang.Iso6391()
	if detected == "zh" && hasKana(text) {
		detected = "ja" // Japanese mixes kanji with kana; Chinese has none
	}
	if detected == "" || detected == declared {
		return declared
	}
	if declared == "" {
		// The detector's confidence is unreliable on long texts (it can
		// even turn negative), while its answer mostly is not.
		if info.IsReliable() || utf8.RuneCountInString(text) >= longText {
			return detected
		}
		return ""
	}
	if info.IsReliable() && info.Confidence >= overrule {
		return detected
	}
	return declared
}
