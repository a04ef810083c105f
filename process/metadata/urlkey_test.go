package metadata

import (
	"net/url"
	"strings"
	"testing"
)

func TestURLKey(t *testing.T) {
	same := []string{
		"https://news.example.org/2026/ferry-returns",
		"http://news.example.org/2026/ferry-returns/",
		"https://www.news.example.org/2026/ferry-returns?utm_source=feed&fbclid=abc",
		"https://m.news.example.org/2026/ferry-returns#comments",
		"https://amp.news.example.org/2026/ferry-returns",
		"https://news.example.org/2026/ferry-returns/amp",
		"https://news.example.org/2026/ferry-returns?amp=1&gclid=x",
		"https://NEWS.example.org:443/2026/ferry-returns",
	}
	want := "news.example.org/2026/ferry-returns"
	for _, u := range same {
		if got := URLKey(u); got != want {
			t.Errorf("URLKey(%q) = %q, want %q", u, got, want)
		}
	}
	differ := map[string]string{
		"https://news.example.org/2026/ferry-returns?id=4&utm_medium=x": "news.example.org/2026/ferry-returns?id=4",
		"https://news.example.org/2026/Ferry-Returns":                   "news.example.org/2026/Ferry-Returns",
		"https://example.org/":                                          "example.org",
		"https://m.example.org/a":                                       "example.org/a",
		"https://m.org/a":                                               "m.org/a", // the site itself, not a mobile edition
		"ftp://news.example.org/a":                                      "",
		"/2026/ferry-returns":                                           "",
		"":                                                              "",
	}
	for in, want := range differ {
		if got := URLKey(in); got != want {
			t.Errorf("URLKey(%q) = %q, want %q", in, got, want)
		}
	}
	if got := URLKeyHost("news.example.org/2026/a?b=c"); got != "news.example.org" {
		t.Errorf("URLKeyHost = %q", got)
	}
}

// FuzzURLKey checks that the key of any input is stable (the key of the
// key, read as a URL, is the key), holds no scheme, fragment or tracking
// parameter, and does not depend on the scheme or an added tracking
// parameter.
func FuzzURLKey(f *testing.F) {
	for _, s := range []string{
		"https://news.example.org/2026/ferry-returns?utm_source=feed",
		"http://m.example.org/a/amp/?amp=1#top",
		"https://www.example.org:8080/%7Euser/story.amp.html?b=2&a=1",
		"https://[::1]:443/a",
		"https://amp.www.m.example.co.uk/amp/amp/x",
		"//example.org/x",
		"https://example.org/a?fbclid=1&x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		key := URLKey(raw)
		if key == "" {
			return
		}
		if strings.Contains(key, "://") || strings.Contains(key, "#") {
			t.Fatalf("URLKey(%q) = %q holds a scheme or fragment", raw, key)
		}
		if again := URLKey("https://" + key); again != key {
			t.Fatalf("URLKey(%q) = %q, but the key of that is %q", raw, key, again)
		}
		if u, err := url.Parse(raw); err == nil && u.Port() == "" && strings.HasPrefix(raw, "https://") {
			if h := URLKey("http://" + strings.TrimPrefix(raw, "https://")); h != key {
				t.Fatalf("URLKey over http %q, over https %q", h, key)
			}
		}
		if trimmed := strings.TrimSpace(raw); !strings.Contains(trimmed, "#") {
			sep := "?"
			if strings.Contains(trimmed, "?") {
				sep = "&"
			}
			if tr := URLKey(trimmed + sep + "utm_source=x"); tr != key {
				t.Fatalf("URLKey(%q) = %q, with a utm_source %q", raw, key, tr)
			}
		}
	})
}

func TestTrimURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://AMP.News.example.org:443/2026/ferry/amp?utm_source=x&id=2#top": "https://amp.news.example.org/2026/ferry/amp?id=2",
		"http://news.example.org/a.amp.html?fbclid=1":                           "http://news.example.org/a.amp.html",
		"/relative": "",
	} {
		if got := TrimURL(in); got != want {
			t.Errorf("TrimURL(%q) = %q, want %q", in, got, want)
		}
	}
}
