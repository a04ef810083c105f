package textdiff

import (
	"strings"
	"testing"
)

func TestUnified(t *testing.T) {
	from := "The ferry is back.\n\nIt runs twice a day.\n\nTickets cost two crowns.\n\nThe captain is pleased."
	to := "The ferry is back.\n\nIt runs three times a day.\n\nTickets cost two crowns.\n\nThe captain is pleased."
	got := Unified(from, to, "rev 1", "rev 2")
	want := "--- rev 1\n+++ rev 2\n@@ -1,5 +1,5 @@\n The ferry is back.\n \n-It runs twice a day.\n+It runs three times a day.\n \n Tickets cost two crowns.\n"
	if got != want {
		t.Errorf("Unified =\n%s\nwant\n%s", got, want)
	}
	if got := Unified(from, from, "a", "b"); got != "" {
		t.Errorf("Unified of the same text = %q, want empty", got)
	}
	// Two changes far apart make two hunks.
	long := strings.Repeat("same line\n", 10)
	two := Unified("first\n"+long+"last", "FIRST\n"+long+"LAST", "a", "b")
	if n := strings.Count(two, "@@ -"); n != 2 {
		t.Errorf("two distant changes gave %d hunks:\n%s", n, two)
	}
	if !strings.Contains(two, "@@ -1,3 +1,3 @@\n-first\n+FIRST\n") || !strings.Contains(two, "@@ -10,3 +10,3 @@\n same line\n same line\n-last\n+LAST\n") {
		t.Errorf("hunks:\n%s", two)
	}
}

func TestWords(t *testing.T) {
	got := Words("The ferry runs twice a day.", "The new ferry runs three times a day.")
	want := "The {+new+} ferry runs [-twice-] {+three times+} a day."
	if got != want {
		t.Errorf("Words = %q, want %q", got, want)
	}
	if got := Words("a b c", "a b c"); got != "a b c" {
		t.Errorf("Words of the same text = %q", got)
	}
}

func TestHugeTextsAreReplaced(t *testing.T) {
	a := strings.Repeat("x ", 3000)
	b := strings.Repeat("y ", 3000)
	got := Words(a, b)
	if !strings.HasPrefix(got, "[-x x") || !strings.Contains(got, "-] {+y y") {
		t.Errorf("huge replacement starts %q", got[:40])
	}
}
