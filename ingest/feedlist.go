package ingest

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// Feed is one feed to watch.
type Feed struct {
	// URL is the feed's address (http or https), normalised: scheme and
	// host lower-cased, fragment dropped.
	URL string
	// Title is the name the feed list gave it, if any.
	Title string
	// Token is FeedToken(URL), the feed's subject token and state key.
	Token string
}

// NewFeed checks rawURL and returns the Feed for it.
func NewFeed(rawURL, title string) (Feed, error) {
	u, err := normalizeFeedURL(rawURL)
	if err != nil {
		return Feed{}, err
	}
	return Feed{URL: u, Title: strings.TrimSpace(title), Token: FeedToken(u)}, nil
}

// maxListErrors is how many bad lines one error reports.
const maxListErrors = 20

// maxLineLength is the longest line a text feed list may have.
const maxLineLength = 64 << 10

// ListError is a problem at one line of a feed list.
type ListError struct {
	// File is the name of the list, empty when it was read from a reader.
	File string
	// Line is the 1-based line number.
	Line int
	Err  error
}

func (e *ListError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *ListError) Unwrap() error { return e.Err }

// ReadFeedList reads a feed list: either an OPML document (a feed is any
// outline element with an xmlUrl attribute, at any depth; its title or text
// attribute is the feed's title) or plain text with one feed URL a line,
// where blank lines and everything after a '#' that starts a line or follows
// white space are ignored. URLs must be absolute http or https URLs.
// Duplicates are dropped, keeping the first. Errors name the line and what
// was wrong with it (up to 20 bad lines at once, joined).
func ReadFeedList(r io.Reader) ([]Feed, error) {
	br := bufio.NewReader(r)
	if isXML(br) {
		return readOPML(br)
	}
	return readTextList(br)
}

// LoadFeedList reads the feed list in the file at path (see ReadFeedList).
// Its errors name the file and the line.
func LoadFeedList(path string) ([]Feed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("feed list: %w", err)
	}
	defer f.Close()
	feeds, err := ReadFeedList(f)
	if err != nil {
		return nil, nameListErrors(err, path)
	}
	return feeds, nil
}

// nameListErrors sets File on every ListError in err.
func nameListErrors(err error, path string) error {
	var le *ListError
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range multi.Unwrap() {
			if errors.As(e, &le) {
				le.File = path
			}
		}
		return err
	}
	if errors.As(err, &le) {
		le.File = path
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// isXML reports whether the input starts (after a byte-order mark and white
// space) with '<'.
func isXML(br *bufio.Reader) bool {
	peek, _ := br.Peek(512)
	peek = bytes.TrimPrefix(peek, []byte("\xef\xbb\xbf"))
	peek = bytes.TrimLeft(peek, " \t\r\n")
	return len(peek) > 0 && peek[0] == '<'
}

// feedSet collects feeds in order without duplicates and bad lines.
type feedSet struct {
	feeds []Feed
	seen  map[string]bool
	errs  []error
}

func (s *feedSet) add(line int, rawURL, title string) {
	f, err := NewFeed(rawURL, title)
	if err != nil {
		s.fail(line, err)
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if s.seen[f.URL] {
		return
	}
	s.seen[f.URL] = true
	s.feeds = append(s.feeds, f)
}

func (s *feedSet) fail(line int, err error) {
	if len(s.errs) < maxListErrors {
		s.errs = append(s.errs, &ListError{Line: line, Err: err})
	}
}

func (s *feedSet) result() ([]Feed, error) {
	switch len(s.errs) {
	case 0:
		return s.feeds, nil
	case 1:
		return nil, s.errs[0]
	}
	return nil, errors.Join(s.errs...)
}

func readTextList(br *bufio.Reader) ([]Feed, error) {
	var set feedSet
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 4096), maxLineLength)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		line = stripComment(line)
		fields := strings.Fields(line)
		switch len(fields) {
		case 0:
			continue
		case 1:
			set.add(n, fields[0], "")
		default:
			set.fail(n, fmt.Errorf("want one URL, got %d words %q (comments start with '#')", len(fields), truncate(line, 80)))
		}
	}
	if err := sc.Err(); err != nil {
		set.fail(n+1, fmt.Errorf("read feed list: %w", err))
	}
	return set.result()
}

// stripComment drops a '#' comment: one that starts the line (after white
// space) or follows white space, so that a URL fragment stays part of it.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

func readOPML(br *bufio.Reader) ([]Feed, error) {
	var set feedSet
	dec := xml.NewDecoder(br)
	dec.Strict = false
	dec.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		// OPML is almost always UTF-8; attribute values we need are URLs.
		return input, nil
	}
	sawOPML := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := dec.InputPos()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				line = se.Line
			}
			set.fail(line, fmt.Errorf("OPML: %w", err))
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch strings.ToLower(se.Name.Local) {
		case "opml":
			sawOPML = true
		case "outline":
			var xmlURL, title, text string
			for _, a := range se.Attr {
				switch strings.ToLower(a.Name.Local) {
				case "xmlurl":
					xmlURL = a.Value
				case "title":
					title = a.Value
				case "text":
					text = a.Value
				}
			}
			if title == "" && strings.TrimSpace(text) != strings.TrimSpace(xmlURL) {
				title = text // text that only repeats the URL names nothing
			}
			if strings.TrimSpace(xmlURL) != "" {
				line, _ := dec.InputPos()
				set.add(line, xmlURL, title)
			}
		}
	}
	if !sawOPML && len(set.errs) == 0 {
		return nil, &ListError{Line: 1, Err: errors.New("XML document is not OPML (no <opml> element)")}
	}
	return set.result()
}

// normalizeFeedURL checks that raw is an absolute http(s) URL with a host
// and returns it with scheme and host lower-cased and no fragment.
func normalizeFeedURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad URL %q: %w", truncate(raw, 200), errors.Unwrap(err))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return "", fmt.Errorf("URL %q is not absolute (want http:// or https://)", truncate(raw, 200))
		}
		return "", fmt.Errorf("URL %q: scheme %q is not http or https", truncate(raw, 200), u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("URL %q has no host", truncate(raw, 200))
	}
	if u.User != nil {
		return "", fmt.Errorf("URL %q carries a user name or password; newsflow does not send credentials", truncate(u.Redacted(), 200))
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment = ""
	u.RawFragment = ""
	return u.String(), nil
}

// truncate shortens s to at most n bytes (on a rune boundary), marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
