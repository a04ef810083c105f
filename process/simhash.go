package process

import (
	"unicode"
	"unicode/utf8"
)

// SimHash is a 64-bit locality-sensitive fingerprint of text's word
// 3-shingles (words compared case-insensitively): texts that differ in a
// few words differ in a few bits.
func SimHash(text string) uint64 {
	var ones [64]int32
	n := int32(0)
	// Bit 8b+j of each hash is counted in byte b of lanes[j], eight
	// counters a word, and the lanes are emptied into ones before a byte
	// can overflow.
	var lanes [8]uint64
	pending := 0
	flush := func() {
		for j, l := range lanes {
			for b := 0; b < 8; b++ {
				ones[8*b+j] += int32(l >> (8 * b) & 0xff)
			}
		}
		lanes = [8]uint64{}
		pending = 0
	}
	add := func(x uint64) {
		for j := range lanes {
			lanes[j] += x >> j & 0x0101010101010101
		}
		if pending++; pending == 255 {
			flush()
		}
		n++
	}
	var win [3]uint64 // hashes of the last three words
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
		r := rune(text[i])
		var alnum bool
		if r < utf8.RuneSelf {
			// ASCII, most of most texts: what the unicode functions
			// below answer for it, without them.
			i++
			switch {
			case 'a' <= r && r <= 'z' || '0' <= r && r <= '9':
				alnum = true
			case 'A' <= r && r <= 'Z':
				r += 'a' - 'A'
				alnum = true
			}
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(text[i:])
			i += size
			if alnum = unicode.IsLetter(r) || unicode.IsNumber(r); alnum {
				r = unicode.ToLower(r)
			}
		}
		if alnum {
			word = (word ^ uint64(r)) * fnvPrime
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
	flush()
	var out uint64
	for i, c := range ones {
		if 2*c > n {
			out |= 1 << uint(i)
		}
	}
	return out
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// mix combines three word hashes into one well-spread shingle hash.
func mix(a, b, c uint64) uint64 {
	h := (a*fnvPrime ^ b) * fnvPrime
	h = (h ^ c) * fnvPrime
	// splitmix64's finalizer: every input bit moves every output bit.
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
