package metadata

import (
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
	maxDetect = 4000
	// overrule is the confidence the detector needs to overrule the page.
	overrule = 0.5
	// longText is the length from which an undeclared page takes the
	// detector's answer whatever its confidence.
	longText = 1000
)

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
