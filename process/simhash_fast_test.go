package process

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// naiveSimHash counts every bit one by one: SimHash must agree with it.
func naiveSimHash(text string) uint64 {
	var ones [64]int32
	n := int32(0)
	add := func(x uint64) {
		for i := range ones {
			ones[i] += int32(x >> uint(i) & 1)
		}
		n++
	}
	var win [3]uint64
	words := 0
	word, inWord := uint64(fnvOffset), false
	endWord := func() {
		win[0], win[1], win[2] = win[1], win[2], word
		if words++; words >= 3 {
			add(mix(win[0], win[1], win[2]))
		}
		word, inWord = fnvOffset, false
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			word = (word ^ uint64(unicode.ToLower(r))) * fnvPrime
			inWord = true
		} else if inWord {
			endWord()
		}
	}
	if inWord {
		endWord()
	}
	if words > 0 && words < 3 {
		add(mix(win[0], win[1], win[2]))
	}
	var out uint64
	for i, c := range ones {
		if 2*c > n {
			out |= 1 << uint(i)
		}
	}
	return out
}

func TestSimHashAsNaive(t *testing.T) {
	var texts []string
	for _, n := range []int{0, 1, 2, 3, 254, 255, 256, 257, 600, 5000} {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "word%d Straße %c ", i*7919%1000, 'a'+rune(i%26))
		}
		texts = append(texts, b.String())
	}
	for _, s := range texts {
		if got, want := SimHash(s), naiveSimHash(s); got != want {
			t.Errorf("SimHash(%d bytes) = %016x, want %016x", len(s), got, want)
		}
	}
}

// FuzzSimHash checks SimHash against naiveSimHash on any text, mixed
// case, digits, punctuation and invalid bytes included.
func FuzzSimHash(f *testing.F) {
	f.Add("The Quick brown FOX, 2025: Straße ÉTÉ \xff done.")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := SimHash(s), naiveSimHash(s); got != want {
			t.Errorf("SimHash(%q) = %016x, want %016x", s, got, want)
		}
	})
}
