package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress shows how far a replay got: on a terminal a one-line bar
// redrawn in place, otherwise a plain line every few seconds.
type progress struct {
	w     io.Writer
	what  string
	tty   bool
	every time.Duration // between plain lines; between redraws on a terminal

	start, shown        time.Time
	total               uint64
	ok, failed, skipped int
}

type outcomeKind int

const (
	outcomeDone outcomeKind = iota
	outcomeFailed
	outcomeSkipped
)

// newProgress writes to w: a bar when w is a terminal.
func newProgress(w io.Writer, what string) *progress {
	p := &progress{w: w, what: what, every: 5 * time.Second, start: time.Now()}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 200*time.Millisecond
		}
	}
	p.shown = p.start
	return p
}

// begin is told how many messages the replay will hand on.
func (p *progress) begin(pending, _ uint64) { p.total = pending }

func (p *progress) add(k outcomeKind) {
	switch k {
	case outcomeDone:
		p.ok++
	case outcomeFailed:
		p.failed++
	default:
		p.skipped++
	}
	if now := time.Now(); now.Sub(p.shown) >= p.every {
		p.shown = now
		p.show()
	}
}

func (p *progress) count() int             { return p.ok + p.failed + p.skipped }
func (p *progress) elapsed() time.Duration { return time.Since(p.start) }

// rate is messages a second since the start.
func (p *progress) rate() float64 {
	if s := p.elapsed().Seconds(); s > 0 {
		return float64(p.count()) / s
	}
	return 0
}

// line is count/total, share, rate and time left.
func (p *progress) line() string {
	n := p.count()
	eta := "?"
	if r := p.rate(); r > 0 && p.total >= uint64(n) {
		eta = time.Duration(float64(p.total-uint64(n)) / r * float64(time.Second)).Round(time.Second).String()
	}
	pct := 100.0
	if p.total > 0 {
		pct = min(100, 100*float64(n)/float64(p.total))
	}
	return fmt.Sprintf("%d/%d (%.0f%%) %.1f/s ETA %s, %d failed, %d skipped", n, p.total, pct, p.rate(), eta, p.failed, p.skipped)
}

func (p *progress) show() {
	if !p.tty {
		fmt.Fprintf(p.w, "replay %s: %s\n", p.what, p.line())
		return
	}
	const width = 30
	fill := width
	if p.total > 0 {
		fill = min(width, int(uint64(width)*uint64(p.count())/p.total))
	}
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %s", strings.Repeat("#", fill), strings.Repeat("-", width-fill), p.line())
}

// end draws the last state and leaves the terminal's line.
func (p *progress) end() {
	if p.tty {
		p.show()
		fmt.Fprintln(p.w)
	}
}
