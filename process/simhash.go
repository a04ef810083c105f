package process

import (
	"hash/fnv"
	"strings"
	"unicode"
)

// SimHash is a 64-bit locality-sensitive fingerprint of text's word
// 3-shingles: texts that differ in a few words differ in a few bits.
func SimHash(text string) uint64 {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	var v [64]int
	h := fnv.New64a()
	add := func(s ...string) {
		h.Reset()
		for _, w := range s {
			h.Write([]byte(w))
			h.Write([]byte{' '})
		}
		x := h.Sum64()
		for i := range v {
			if x&(1<<uint(i)) != 0 {
				v[i]++
			} else {
				v[i]--
			}
		}
	}
	if len(words) < 3 {
		add(words...)
	}
	for i := 0; i+3 <= len(words); i++ {
		add(words[i : i+3]...)
	}
	var out uint64
	for i, c := range v {
		if c > 0 {
			out |= 1 << uint(i)
		}
	}
	return out
}
