package metadata

import (
	"net/url"
	"testing"
)

func TestCleanURL(t *testing.T) {
	base, _ := url.Parse("https://news.example/world/story.html")
	tests := []struct {
		in   string
		base *url.URL
		want string
	}{
		{"https://news.example/a?utm_source=rss&utm_medium=feed", nil, "https://news.example/a"},
		{"https://news.example/a?id=5&fbclid=x&gclid=y&mc_cid=1&mc_eid=2&igshid=3&ref_src=t&_ga=1&yclid=2&msclkid=3", nil, "https://news.example/a?id=5"},
		{"https://news.example/a?b=2&a=1#section", nil, "https://news.example/a?b=2&a=1"},
		{"HTTPS://News.Example:443/A", nil, "https://news.example/A"},
		{"http://news.example:80/a", nil, "http://news.example/a"},
		{"http://news.example:8080/a", nil, "http://news.example:8080/a"},
		{"https://news.example/amp/world/story", nil, "https://news.example/world/story"},
		{"https://news.example/world/story/amp/", nil, "https://news.example/world/story/"},
		{"https://news.example/world/story/amp", nil, "https://news.example/world/story"},
		{"https://news.example/world/story.amp.html", nil, "https://news.example/world/story.html"},
		{"https://news.example/world/story?amp=1", nil, "https://news.example/world/story"},
		{"https://amp.news.example/world/story", nil, "https://news.example/world/story"},
		{"/other.html?utm_campaign=x", base, "https://news.example/other.html"},
		{"//cdn.example/x", nil, "https://cdn.example/x"},
		{"../up.html", base, "https://news.example/up.html"},
		{"https://user:pw@news.example/a", nil, "https://news.example/a"},
		{"https://[::1]:443/a", nil, "https://[::1]/a"},
		{"mailto:desk@news.example", nil, ""},
		{"javascript:void(0)", base, ""},
		{"relative/only", nil, ""},
		{"", base, ""},
		{"https://news.example/a%20b?q=%C3%A9", nil, "https://news.example/a%20b?q=%C3%A9"},
	}
	for _, tt := range tests {
		if got := CleanURL(tt.in, tt.base); got != tt.want {
			t.Errorf("CleanURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
