package store

import (
	"fmt"
	"testing"
)

// TestNearIndex checks that lookups find the entries within
// NearDuplicateDistance through their bands, under the fingerprint an
// entry has now, and not the others.
func TestNearIndex(t *testing.T) {
	const base = 0x0123_4567_89ab_cdef
	n := newNearIndex()
	add := func(id string, seq int64, fp uint64) {
		n.set(current{id: id, seq: seq, fingerprint: fmt.Sprintf("%016x", fp), url: "https://example.org/" + id})
	}
	add("far", 1, ^uint64(base))            // every bit differs
	add("three-bits", 2, base^0b111)        // all three in one band
	add("spread", 3, base^(1|1<<20|1<<40))  // one bit in each of three bands
	add("four-bits", 4, base^0b1111)        // one too many
	add("moved", 5, base^1)                 // near at first...
	add("moved", 5, ^uint64(base)^1)        // ...then moved far away
	add("came-near", 6, ^uint64(base)^0b11) // far at first...
	add("came-near", 6, base^(1<<63))       // ...then near, in another band
	for _, tt := range []struct {
		before int64
		want   string
	}{
		{10, "three-bits"},
		{2, ""}, // none stored before seq 2
		{3, "three-bits"},
	} {
		if got := n.earliest(base, "", tt.before); got != tt.want {
			t.Errorf("earliest before %d = %q, want %q", tt.before, got, tt.want)
		}
	}
	var found []string
	n.near(base, func(id string, _ nearEntry) {
		found = append(found, id)
	})
	seen := map[string]bool{}
	for _, id := range found {
		seen[id] = true
	}
	for id, want := range map[string]bool{"far": false, "three-bits": true, "spread": true, "four-bits": false, "moved": false, "came-near": true} {
		if seen[id] != want {
			t.Errorf("near(%x) finds %q: %v, want %v (found %v)", uint64(base), id, seen[id], want, found)
		}
	}
}
