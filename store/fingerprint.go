package store

import (
	"fmt"
	"math/bits"
	"strconv"
)

// NearDuplicateDistance is the largest Hamming distance between two SimHash
// fingerprints for which the later article counts as a near-duplicate of the
// earlier one.
const NearDuplicateDistance = 3

// bandCount is the number of 16-bit bands a fingerprint is cut into. With
// four bands, two fingerprints that differ in at most three bits agree on at
// least one band (pigeonhole), so candidates are found by band equality.
const bandCount = 4

// parseFingerprint parses a 64-bit fingerprint written as 16 hex digits, as
// process writes it ("%016x").
func parseFingerprint(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("%q is not 16 hex digits", s)
	}
	fp, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not 16 hex digits", s)
	}
	return fp, nil
}

// bands cuts a fingerprint into four 16-bit bands, the most significant
// first.
func bands(fp uint64) [bandCount]int64 {
	var b [bandCount]int64
	for i := range b {
		b[i] = int64(fp>>(48-16*i)) & 0xffff
	}
	return b
}

// hamming returns the number of bits in which a and b differ.
func hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }
