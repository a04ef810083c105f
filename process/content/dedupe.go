package content

import (
	"strings"
	"unicode"
)

// dedupe drops repeated and boilerplate paragraphs: the headline repeated
// as a subtitle, a lead that the body repeats, the same paragraph twice, and
// short notices (advertisement labels, sharing prompts). Dropped paragraphs
// that are a whole element are removed from the DOM too, so that the HTML
// agrees with the text.
func (x *extractor) dedupe(ps []para) []para {
	title := foldKey(x.opts.Title)
	desc := foldKey(x.opts.Description)
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = foldKey(p.text)
	}
	seen := make(map[string]bool, len(ps))
	out := ps[:0]
	for i, p := range ps {
		k := keys[i]
		drop := false
		switch {
		case k == "":
			drop = true
		case title != "" && i < 4 && isTitle(k, title):
			drop = true
		case desc != "" && k == desc && laterContains(keys[i+1:], desc):
			drop = true
		case len(k) >= 30 && seen[k]:
			drop = true
		case isNotice(k):
			drop = true
		}
		if drop {
			if p.whole && p.node != nil {
				removeNode(p.node)
			}
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	return out
}

// isTitle reports whether the folded paragraph k is the folded title t, or
// t is k followed by a site name ("Headline | Site").
func isTitle(k, t string) bool {
	if k == t {
		return true
	}
	return len(k) >= 20 && strings.HasPrefix(t, k) && len(t)-len(k) < 40
}

// laterContains reports whether any of keys contains s.
func laterContains(keys []string, s string) bool {
	for _, k := range keys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// foldKey is s lower-cased with only its letters and digits, single spaces
// between words: two texts that differ in punctuation or spacing get the
// same key.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		} else {
			space = true
		}
	}
	return b.String()
}

// notices are short paragraphs that are page furniture, folded by foldKey.
var notices = map[string]bool{
	"advertisement": true, "advertisements": true, "ad": true, "sponsored": true,
	"story continues below advertisement": true, "article continues below advertisement": true,
	"continue reading below": true, "continue reading": true, "scroll to continue": true,
	"scroll to continue with content": true, "read more": true, "see also": true,
	"related": true, "related articles": true, "related stories": true, "related content": true,
	"share this article": true, "share this story": true, "share": true, "share this": true,
	"click to share": true, "tweet": true, "email": true, "print": true, "comments": true,
	"comment": true, "leave a comment": true, "more on this": true, "more from": true,
	"skip advertisement": true, "ad feedback": true, "loading": true,
	"recommended": true, "trending": true, "follow us": true, "subscribe": true,
	"sign up": true, "you may also like": true, "most read": true, "most popular": true,
	"read next": true, "up next": true, "also read": true, "watch": true,
	"image": true, "photo": true, "video": true, "getty images": true,
	"advertisement scroll to continue with content": true,
}

// isNotice reports whether the folded paragraph k is page furniture.
func isNotice(k string) bool {
	if len(k) > 60 {
		return false
	}
	return notices[k]
}
