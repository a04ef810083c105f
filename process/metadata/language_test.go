package metadata

import (
	"strings"
	"testing"
)

func TestNormalizeLang(t *testing.T) {
	tests := map[string]string{
		"en-US": "en", "de_DE": "de", "FR": "fr", "deu": "de", "ger": "de", "pt-BR": "pt",
		"": "", "x-default": "", "english": "en", "zh-Hans-CN": "zh", "123": "",
	}
	for in, want := range tests {
		if got := normalizeLang(in); got != want {
			t.Errorf("normalizeLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLanguage(t *testing.T) {
	german := strings.Repeat("Die Stadtverwaltung hat am Mittwoch beschlossen, dass die neue Brücke über den Fluss im kommenden Frühjahr gebaut wird. ", 4)
	english := strings.Repeat("The city council decided on Wednesday that the new bridge over the river will be built next spring. ", 4)
	tests := []struct {
		name, declared, text, want string
	}{
		{"declaration agrees", "en-GB", english, "en"},
		{"text clearly other language", "en", german, "de"},
		{"no declaration", "", german, "de"},
		{"short text keeps declaration", "fr", "Die Brücke ist neu.", "fr"},
		{"no declaration, no text", "", "", ""},
		{"declaration normalized", "de_AT", german, "de"},
		{"Japanese with kana", "", strings.Repeat("東京都の会社は新しいサービスを始めました。", 12), "ja"},
	}
	for _, tt := range tests {
		if got := Language(tt.declared, tt.text); got != tt.want {
			t.Errorf("%s: Language(%q, ...) = %q, want %q", tt.name, tt.declared, got, tt.want)
		}
	}
}

func TestStopwordsAgree(t *testing.T) {
	german := strings.Repeat("Die Stadt hat sich für den Bau der neuen Brücke entschieden, die im Frühjahr eröffnet wird. ", 5)
	english := strings.Repeat("The city has decided to build the new bridge, which will open in the spring. ", 5)
	tests := []struct {
		declared, text string
		want           bool
	}{
		{"de", german, true},
		{"en", english, true},
		{"en", german, false},
		{"de", english, false},
		{"sv", english, false}, // no list: the detector decides
		{"de", "Die Brücke.", false},
	}
	for _, tt := range tests {
		if got := stopwordsAgree(tt.declared, tt.text); got != tt.want {
			t.Errorf("stopwordsAgree(%q, %.30q...) = %v, want %v", tt.declared, tt.text, got, tt.want)
		}
	}
}
