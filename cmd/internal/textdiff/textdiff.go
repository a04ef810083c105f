// Package textdiff shows how one version of an article's text differs
// from another: as a unified diff of its lines, or word by word.
package textdiff

import (
	"fmt"
	"strings"
)

// maxCells bounds the work of one comparison (the product of the two
// lengths, in lines or words). Longer texts are shown as one replacement.
const maxCells = 4 << 20

// context is how many unchanged lines a unified diff shows around a change.
const context = 2

type kind byte

const (
	same kind = ' '
	del  kind = '-'
	add  kind = '+'
)

type edit struct {
	k kind
	s string
}

// diff returns the edits that turn a into b: a longest common subsequence
// kept, the rest deleted and added.
func diff(a, b []string) []edit {
	// Common prefix and suffix first: edits are usually small.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []edit
	for _, s := range a[:pre] {
		out = append(out, edit{same, s})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma)*len(mb) > maxCells {
		for _, s := range ma {
			out = append(out, edit{del, s})
		}
		for _, s := range mb {
			out = append(out, edit{add, s})
		}
	} else {
		out = append(out, lcs(ma, mb)...)
	}
	for _, s := range a[len(a)-suf:] {
		out = append(out, edit{same, s})
	}
	return out
}

// lcs is diff by dynamic programming over a and b.
func lcs(a, b []string) []edit {
	n, m := len(a), len(b)
	// l[i][j] is the length of the LCS of a[i:] and b[j:].
	l := make([][]int32, n+1)
	for i := range l {
		l[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out []edit
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, edit{same, a[i]})
			i++
			j++
		case j < m && (i == n || l[i][j+1] >= l[i+1][j]):
			out = append(out, edit{add, b[j]})
			j++
		default:
			out = append(out, edit{del, a[i]})
			i++
		}
	}
	// Deletions before additions within a run of changes reads better.
	for k := 0; k < len(out); {
		if out[k].k == same {
			k++
			continue
		}
		e := k
		for e < len(out) && out[e].k != same {
			e++
		}
		var dels, adds []edit
		for _, x := range out[k:e] {
			if x.k == del {
				dels = append(dels, x)
			} else {
				adds = append(adds, x)
			}
		}
		copy(out[k:], append(dels, adds...))
		k = e
	}
	return out
}

func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Unified returns a unified diff of the lines of from and to, with headers
// naming them, or "" when they are the same.
func Unified(from, to, fromName, toName string) string {
	edits := diff(lines(from), lines(to))
	changed := false
	for _, e := range edits {
		changed = changed || e.k != same
	}
	if !changed {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", fromName, toName)
	// Hunks: runs of changes with up to context lines around them,
	// merged when they touch.
	for start := 0; start < len(edits); {
		first := start
		for first < len(edits) && edits[first].k == same {
			first++
		}
		if first == len(edits) {
			break
		}
		lo := max(first-context, 0)
		hi := first
		for k := first; k < len(edits); k++ {
			if edits[k].k != same {
				hi = k + 1
			} else if k-hi >= 2*context {
				break
			}
		}
		hi = min(hi+context, len(edits))
		aLine, bLine := 1, 1
		for _, e := range edits[:lo] {
			if e.k != add {
				aLine++
			}
			if e.k != del {
				bLine++
			}
		}
		aN, bN := 0, 0
		for _, e := range edits[lo:hi] {
			if e.k != add {
				aN++
			}
			if e.k != del {
				bN++
			}
		}
		fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", aLine, aN, bLine, bN)
		for _, e := range edits[lo:hi] {
			b.WriteByte(byte(e.k))
			b.WriteString(e.s)
			b.WriteByte('\n')
		}
		start = hi
	}
	return b.String()
}

// Words returns to with the words deleted since from in [-...-] and the
// words added in {+...+}, as git diff --word-diff shows them; white space
// is shown as in to (a single space within changed runs).
func Words(from, to string) string {
	edits := diff(strings.Fields(from), strings.Fields(to))
	var b strings.Builder
	for k := 0; k < len(edits); {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if edits[k].k == same {
			b.WriteString(edits[k].s)
			k++
			continue
		}
		var dels, adds []string
		for ; k < len(edits) && edits[k].k != same; k++ {
			if edits[k].k == del {
				dels = append(dels, edits[k].s)
			} else {
				adds = append(adds, edits[k].s)
			}
		}
		if len(dels) > 0 {
			b.WriteString("[-" + strings.Join(dels, " ") + "-]")
		}
		if len(adds) > 0 {
			if len(dels) > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("{+" + strings.Join(adds, " ") + "+}")
		}
	}
	return b.String()
}
