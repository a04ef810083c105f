package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/process"
)

// extractRecords runs `newsflow extract args...` and returns its records
// by file name, and its error.
func extractRecords(t *testing.T, args ...string) (map[string]map[string]any, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), append([]string{"extract"}, args...), &out, &errOut)
	recs := map[string]map[string]any{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs[m["file"].(string)] = m
	}
	return recs, err
}

// TestExtractRefusesWhatIsNotARegularFile: a named pipe would hang the
// command and /dev/zero would fill its memory; each gets its own error and
// the other files are extracted.
func TestExtractRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.html")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe: %v", err)
	}
	good := filepath.Join(dir, "good.html")
	copyFile(t, "demosite/pages/town_library-hours.html", good)
	args := []string{good, fifo}
	if _, err := os.Stat("/dev/zero"); err == nil {
		args = append(args, "/dev/zero")
	}
	recs, err := extractRecords(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	if e := recs[fifo]["error"]; e == nil || !strings.Contains(e.(string), "not a regular file: it is a named pipe") {
		t.Errorf("named pipe: %v", recs[fifo])
	}
	if len(args) == 3 {
		if e := recs["/dev/zero"]["error"]; e == nil || !strings.Contains(e.(string), "not a regular file: it is a character device") {
			t.Errorf("/dev/zero: %v", recs["/dev/zero"])
		}
	}
	if recs[good]["error"] != nil || recs[good]["title"] == nil {
		t.Errorf("good page beside them: %v", recs[good])
	}
}

// TestExtractSizeCap: a file over the limit of a fetched page is refused
// without being read.
func TestExtractSizeCap(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.html")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: the size is there, the bytes are not.
	if err := f.Truncate(ingest.DefaultMaxBodyBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	good := filepath.Join(dir, "good.html")
	copyFile(t, "demosite/pages/town_library-hours.html", good)
	recs, err := extractRecords(t, big, good)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("larger than the %d-byte limit of a page", ingest.DefaultMaxBodyBytes)
	if e := recs[big]["error"]; e == nil || !strings.Contains(e.(string), want) {
		t.Errorf("big file: %v, want an error saying %q", recs[big], want)
	}
}

// TestReadPageCapsWhatItReads: a file that grows past the limit after it
// was looked at is cut off at the limit, not read to its end.
func TestReadPageCapsWhatItReads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "page.html")
	os.WriteFile(path, bytes.Repeat([]byte("<p>x</p>"), 100), 0o600)
	if _, _, err := readPage(path, 800); err != nil {
		t.Fatalf("a file of exactly the limit: %v", err)
	}
	if _, _, err := readPage(path, 799); err == nil || !strings.Contains(err.Error(), "limit of a page") {
		t.Fatalf("a file over the limit: %v", err)
	}
}

func TestExtractFailsWhenEveryFileFails(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "pixel.html")
	os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"), 0o600)
	recs, err := extractRecords(t, filepath.Join(dir, "missing.html"), png)
	if err == nil || !strings.Contains(err.Error(), "all 2 files failed") {
		t.Fatalf("error %v, want one saying all 2 files failed", err)
	}
	if e := recs[png]["error"]; e == nil || !strings.Contains(e.(string), "not an HTML page: image/png") {
		t.Errorf("png: %v", recs[png])
	}
	if len(recs) != 2 {
		t.Errorf("%d records, want one per file even when all fail", len(recs))
	}
}

// TestExtractFileSurvivesAPanic: a page that makes extraction panic is
// its file's error; the next file is extracted as usual.
func TestExtractFileSurvivesAPanic(t *testing.T) {
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "bad.html"), filepath.Join(dir, "good.html")
	os.WriteFile(bad, []byte("<p>The lock keeper's log ends mid-sentence.</p>"), 0o600)
	copyFile(t, "demosite/pages/town_library-hours.html", good)
	extract := func(p process.Page) (process.Article, error) {
		if bytes.Contains(p.Body, []byte("lock keeper")) {
			panic("index out of range [7] with length 7")
		}
		return process.Extract(p)
	}
	if r := extractFile(bad, "", ingest.DefaultMaxBodyBytes, extract); r.Article != nil || !strings.Contains(r.Error, "extraction panicked: index out of range") {
		t.Errorf("panicking page: %+v, want its error", r)
	}
	if r := extractFile(good, "", ingest.DefaultMaxBodyBytes, extract); r.Error != "" || r.Article == nil || r.Text == "" {
		t.Errorf("next page: %+v, want its article", r)
	}
}

// TestInOrderRunsWorkersAtOnce: every worker runs a file at the same time
// (each call waits until all of them have started), and the results come
// out in input order although they finish in another.
func TestInOrderRunsWorkersAtOnce(t *testing.T) {
	const workers, n = 4, 41
	var mu sync.Mutex
	started := 0
	all := make(chan struct{})
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var got []int
	err := inOrder(ctx, n, workers, func(i int) int {
		if i < workers {
			mu.Lock()
			if started++; started == workers {
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
			case <-ctx.Done():
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("only %d of %d workers ran at once", started, workers)
				return -1
			}
		}
		// Even-numbered calls finish after the next one: out of order.
		if i%2 == 0 && i+1 < n {
			select {
			case <-done[i+1]:
			case <-ctx.Done():
			}
		}
		close(done[i])
		return i
	}, func(i int) error {
		got = append(got, i)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range got {
		if g != i {
			t.Fatalf("results in order %v, want 0..%d", got, n-1)
		}
	}
	if len(got) != n {
		t.Fatalf("%d results, want %d", len(got), n)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
