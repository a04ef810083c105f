package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func feedURLs(fs []Feed) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.URL)
	}
	return out
}

func TestReadFeedList(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   []string // URLs, in order
		titles []string // when not nil, the titles
	}{
		{
			name:  "text with comments and blank lines",
			input: "# a comment\n\nhttps://a.example.org/feed\n  http://b.example.org/rss # trailing\n\t\n",
			want:  []string{"https://a.example.org/feed", "http://b.example.org/rss"},
		},
		{
			name:  "text keeps query, drops fragment, lower-cases host",
			input: "HTTPS://News.Example.ORG/Path/Feed?Type=RSS#frag\n",
			want:  []string{"https://news.example.org/Path/Feed?Type=RSS"},
		},
		{
			name:  "text duplicates removed",
			input: "https://a.example.org/feed\nhttps://A.example.org/feed\nhttps://a.example.org/feed#x\n",
			want:  []string{"https://a.example.org/feed"},
		},
		{
			name:  "byte-order mark and CRLF",
			input: "\ufeffhttps://a.example.org/feed\r\nhttps://b.example.org/feed\r\n",
			want:  []string{"https://a.example.org/feed", "https://b.example.org/feed"},
		},
		{
			name:  "empty text",
			input: "\n# nothing\n",
			want:  nil,
		},
		{
			name: "OPML nested",
			input: `<?xml version="1.0"?><opml version="2.0"><body>
<outline text="Folder"><outline text="Inner"><outline text="Deep" xmlUrl="https://deep.example.org/rss"/></outline></outline>
<outline title="Top" text="other" xmlUrl="https://top.example.org/atom"/>
</body></opml>`,
			want:   []string{"https://deep.example.org/rss", "https://top.example.org/atom"},
			titles: []string{"Deep", "Top"},
		},
		{
			name:   "OPML attribute case and entities",
			input:  `<opml><body><outline XMLURL="https://a.example.org/f?a=1&amp;b=2" TEXT="A &amp; B"/></body></opml>`,
			want:   []string{"https://a.example.org/f?a=1&b=2"},
			titles: []string{"A & B"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFeedList(strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("ReadFeedList: %v", err)
			}
			if g := feedURLs(got); strings.Join(g, " ") != strings.Join(tt.want, " ") {
				t.Errorf("URLs = %q, want %q", g, tt.want)
			}
			for i, f := range got {
				if f.Token != FeedToken(f.URL) {
					t.Errorf("feed %d token %q, want FeedToken(URL) %q", i, f.Token, FeedToken(f.URL))
				}
				if tt.titles != nil && i < len(tt.titles) && f.Title != tt.titles[i] {
					t.Errorf("feed %d title %q, want %q", i, f.Title, tt.titles[i])
				}
			}
		})
	}
}

func TestReadFeedListErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string // each must appear in the error
	}{
		{"scheme", "https://a.example.org/f\nftp://b.example.org/f\n", []string{"line 2:", `scheme "ftp"`}},
		{"not absolute", "\n\nexample.org/feed\n", []string{"line 3:", "not absolute"}},
		{"two words", "https://a.example.org/f https://b.example.org/f\n", []string{"line 1:", "want one URL"}},
		{"no host", "https:///path\n", []string{"line 1:", "no host"}},
		{"user info", "https://user:secret@a.example.org/f\n", []string{"line 1:", "user name or password"}},
		{"several bad lines", "mailto:x@example.org\nhttps://ok.example.org/\nhttp//broken\n", []string{"line 1:", "line 3:"}},
		{"OPML syntax", "<opml>\n<body>\n<outline xmlUrl=\"https://a.example.org/\"/>\n<outline text=\"x\" <= />\n</body></opml>\n", []string{"line 4:", "OPML"}},
		{"OPML cut short", "<opml>\n<body>\n<outline xmlUrl=\"https://a.example.org/\">\n", []string{"line 4:", "EOF"}},
		{"OPML bad URL", "<opml><body>\n\n<outline xmlUrl=\"file:///etc/passwd\"/>\n</body></opml>", []string{"line 3:", `scheme "file"`}},
		{"XML but not OPML", "<rss><channel></channel></rss>", []string{"not OPML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFeedList(strings.NewReader(tt.input))
			if err == nil {
				t.Fatalf("ReadFeedList = %v, want an error", feedURLs(got))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var le *ListError
			if !errors.As(err, &le) {
				t.Errorf("error %T is not a *ListError", err)
			}
		})
	}
}

func TestLoadFeedList(t *testing.T) {
	tests := []struct {
		file   string
		want   []string
		titles []string
	}{
		{
			file: "nested.opml",
			want: []string{
				"https://gazette.example.org/rss.xml",
				"https://www.courier.example.net/feeds/all.atom",
				"http://lantern.example.com/feed.json",
			},
			titles: []string{"Harbour Gazette", "Valley Courier", "Lantern Weekly"},
		},
		{
			file: "feeds.txt",
			want: []string{
				"https://gazette.example.org/rss.xml",
				"https://www.courier.example.net/feeds/all.atom",
				"http://lantern.example.com/feed.json",
				"https://tidewater.example.com/news?format=rss",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := LoadFeedList(filepath.Join("testdata", "lists", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if g := feedURLs(got); strings.Join(g, " ") != strings.Join(tt.want, " ") {
				t.Errorf("URLs = %q\nwant %q", g, tt.want)
			}
			for i := range tt.titles {
				if i < len(got) && got[i].Title != tt.titles[i] {
					t.Errorf("feed %d title %q, want %q", i, got[i].Title, tt.titles[i])
				}
			}
		})
	}
}

func TestLoadFeedListErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"bad.txt", []string{"bad.txt:3:", "bad.txt:5:", "bad.txt:6:"}},
		{"bad.opml", []string{"bad.opml:5:", `scheme "javascript"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadFeedList(filepath.Join("testdata", "lists", tt.file))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	_, err := LoadFeedList(filepath.Join(t.TempDir(), "missing.txt"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing file: error %v should name the file and wrap os.ErrNotExist", err)
	}
}

func FuzzReadFeedList(f *testing.F) {
	for _, name := range []string{"nested.opml", "feeds.txt", "bad.txt", "bad.opml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "lists", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("https://a.example.org/#x # y\n"))
	f.Add([]byte("<opml><outline xmlUrl='http://[::1]:80/'/></opml>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		feeds, err := ReadFeedList(strings.NewReader(string(data)))
		if err != nil {
			if feeds != nil {
				t.Errorf("feeds %v returned with error %v", feeds, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, fd := range feeds {
			if !strings.HasPrefix(fd.URL, "http://") && !strings.HasPrefix(fd.URL, "https://") {
				t.Errorf("feed URL %q is not http(s)", fd.URL)
			}
			if seen[fd.URL] {
				t.Errorf("duplicate feed %q", fd.URL)
			}
			seen[fd.URL] = true
			if fd.Token != FeedToken(fd.URL) || !validToken(fd.Token) {
				t.Errorf("bad token %q for %q", fd.Token, fd.URL)
			}
			// A listed URL reads back as itself.
			again, err := ReadFeedList(strings.NewReader(fd.URL + "\n"))
			if err != nil || len(again) != 1 || again[0].URL != fd.URL {
				t.Errorf("URL %q does not read back: %v %v", fd.URL, feedURLs(again), err)
			}
		}
		// Exported as OPML, the list reads back the same.
		var opml strings.Builder
		if err := WriteOPML(&opml, "fuzz", time.Time{}, feeds); err != nil {
			t.Fatal(err)
		}
		back, err := ReadFeedList(strings.NewReader(opml.String()))
		if err != nil || !slices.Equal(back, feeds) {
			t.Errorf("OPML round trip: %+v, %v; want %+v\n%s", back, err, feeds, opml.String())
		}
	})
}
