package process

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestExtractContextDone checks that a page is not extracted under a done
// context: the error wraps the context's, and a live context extracts the
// same page.
func TestExtractContextDone(t *testing.T) {
	page := Page{URL: "https://news.example.com/a", Body: []byte("<html><body><article><p>" +
		strings.Repeat("The ferry timetable changes on Monday, the council said. ", 20) + "</p></article></body></html>")}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ExtractContext(ctx, page); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want %v", err, context.Canceled)
	}
	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := ExtractContext(ctx, page); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past deadline: err = %v, want %v", err, context.DeadlineExceeded)
	}
	a, err := ExtractContext(context.Background(), page)
	if err != nil || !strings.Contains(a.Text, "ferry timetable") {
		t.Errorf("live context: text %q, err %v", a.Text, err)
	}
}
