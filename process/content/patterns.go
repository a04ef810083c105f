package content

import (
	"iter"
	"strings"
)

// Words in an element's class or id that mark boilerplate: page chrome,
// sharing, promotion, comments and lists of other stories. A class or id is
// split into words at every character that is not a letter or digit.
var negativeWords = map[string]bool{
	"ad": true, "ads": true, "adv": true, "advert": true, "adverts": true,
	"advertisement": true, "advertising": true, "adsense": true, "adslot": true,
	"dfp": true, "gpt": true, "banner": true, "breadcrumb": true,
	"breadcrumbs": true, "comment": true, "comments": true, "commentlist": true,
	"community": true, "cookie": true, "cookies": true, "consent": true,
	"gdpr": true, "disqus": true, "footer": true, "masthead": true, "menu": true,
	"nav": true, "navbar": true, "navigation": true, "newsletter": true,
	"outbrain": true, "taboola": true, "popup": true, "modal": true,
	"promo": true, "promos": true, "promotion": true, "related": true,
	"recommended": true, "recommendations": true, "recirc": true,
	"recirculation": true, "share": true, "shares": true, "sharing": true,
	"sharebar": true, "social": true, "socials": true, "sidebar": true,
	"sponsor": true, "sponsored": true, "subscribe": true, "subscription": true,
	"signup": true, "widget": true, "widgets": true, "pagination": true,
	"pager": true, "tags": true, "toolbar": true, "byline": true,
	"caption": true, "credit": true, "credits": true, "trending": true,
	"popular": true, "mostread": true, "mostpopular": true, "skip": true,
	"print": true, "author": true, "bio": true, "more": true, "teaser": true,
	"teasers": true, "nocontent": true, "hidden": false, "rating": true,
	"reactions": true, "follow": true, "tooltip": true, "login": true,
	"overlay": true, "lightbox": true, "masthead-nav": true, "rail": true,
	"alert": true, "notice": true, "dek": true, "abstract": true, "standfirst": true,
	"subtitle": true, "subheadline": true, "strapline": true, "kicker": true, "rollover": true, "popover": true, "hovercard": true, "disclaimer": true, "copyright": true,
	"meta": true, "timestamp": true, "date": true, "dateline": false,
	"topics": true, "keywords": true, "embed": false, "sticky": true,
	"header": true, "subnav": true, "shoutbox": true, "skyscraper": true,
	"legal": true, "feedback": true, "paid": true, "affiliate": false,
	"hide": true, "jump": true, "inline-related": true, "readmore": true,
	"read-more": true, "cta": true, "sns": true,
	"whatsapp": true, "pinterest": true, "linkedin": true,
	"email": true, "paywall": true, "dates": true, "recent": true, "latest": true,
	"published": true, "updated": true, "time": true,
}

// Substrings of a class or id that mark boilerplate even inside a longer
// word ("socialshare", "mostpopularlist").
var negativeParts = []string{
	"related", "share", "social", "comment", "newsletter", "cookie", "advert",
	"sponsor", "promo", "breadcrumb", "outbrain", "taboola",
	"most-read", "mostread", "most-popular", "mostpopular", "recommend",
	"subscri", "footer", "sr-only", "visually-hidden", "screen-reader",
	"visuallyhidden", "hidden-text", "signup", "byline", "author-info",
	"authorinfo", "post-meta", "article-meta", "entry-meta", "-tags", "tags-",
	"more-stories", "morestories", "read-next", "readnext", "also-read",
	"up-next", "next-article", "prev-next", "adblock", "ad-slot", "ad-wrap",
	"ad-container", "ad-unit", "adunit", "adcontainer", "google-ad", "dfp-",
	"nativo", "zergnet", "nocontent", "caption", "publish-info", "pubdate",
}

// Words in a class or id that mark the article itself. "text" is not one:
// utility-CSS pages (Tailwind and the like) put text-lg, text-gray-700 or
// tw-text-fg-primary on every block, promotion boxes included, and a
// class that only styles text says nothing about what the text is.
var positiveWords = map[string]bool{
	"article": true, "articlebody": true, "body": true, "content": true,
	"entry": true, "main": true, "post": true, "story": true, "storybody": true,
	"blog": true, "hentry": true, "prose": true, "richtext": true,
	"article-body": true, "article-content": true, "entry-content": true,
	"post-content": true, "post-body": true, "story-body": true,
	"articletext": true, "page": false, "column": false,
}

// Substrings of a class or id that mark the article body itself: they win
// over the negative words ("article-body has-sharing").
var strongPositiveParts = []string{
	"articlebody", "article-body", "article__body", "article_body",
	"articlecontent", "article-content", "article__content", "article_content",
	"article-text", "article__text", "articletext", "article_text",
	"story-body", "storybody", "story__body", "story-content", "story_body",
	"entry-content", "entry_content", "post-content", "post_content",
	"post-body", "postbody", "post__body", "post-text", "posttext",
	"body-text", "bodytext", "body-copy", "bodycopy", "article-copy",
	"main-content", "maincontent", "rich-text", "richtext", "text-content",
	"article-main", "news-body", "newsbody", "news-text", "content-body",
	"contentbody", "field-body", "field-name-body", "story-text",
	"article__main", "c-entry-content",
}

// Class flags: what a class or id string says about its element.
const (
	flagStrong  = 1 << iota // an article-body marker
	flagNegPart             // a boilerplate part, anywhere
	flagNegWord             // a boilerplate word
	flagPosWord             // an article word
)

// classWeight classifies a lower-cased class-and-id string: 2 for a strong
// article-body marker, -1 for boilerplate (a negative part anywhere, or a
// negative word without a positive one), +1 for the article, 0 for neither.
func classWeight(ci string) int {
	return weightOf(classFlags(ci, nil))
}

// weightOf turns class flags into a weight as classWeight does.
func weightOf(f uint8) int {
	switch {
	case f&flagStrong != 0:
		return 2
	case f&flagNegPart != 0:
		return -1
	case f&flagPosWord != 0:
		// A positive word wins over a weak negative one: "content
		// has-sidebar" is the content.
		return 1
	case f&flagNegWord != 0:
		return -1
	}
	return 0
}

// classFlags reads the lower-cased class or id string ci. Boilerplate words
// in neutral are not counted (see stats.neutralize).
func classFlags(ci string, neutral map[string]bool) uint8 {
	if ci == "" {
		return 0
	}
	var f uint8
	if strongIndex.in(ci) {
		return flagStrong
	}
	if negativeIndex.in(ci) {
		f |= flagNegPart
	}
	// In a compound class ("single-content-author", "post__footer") the
	// last word that says anything is the head: the element is an author
	// box in the content, a footer of the post. Each class then counts by
	// its head word.
	start := -1
	var head uint8
	for i := 0; i <= len(ci); i++ {
		alnum := i < len(ci) && (ci[i] >= 'a' && ci[i] <= 'z' || ci[i] >= '0' && ci[i] <= '9')
		if alnum {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			w := ci[start:i]
			if styleWords[w] {
				head = 0
			} else if k := wordFlags[w]; k&flagNegWord != 0 {
				if !neutral[w] {
					head = flagNegWord
				}
			} else if k&flagPosWord != 0 {
				head = flagPosWord
			}
			start = -1
		}
		if i == len(ci) || isSpace(ci[i]) {
			f |= head
			head = 0
		}
	}
	return f
}

// styleWords name a presentation property: in a compound class
// ("pane-header-alignment-left") what precedes one is the part of the
// element it styles, not what the element is.
var styleWords = map[string]bool{
	"align": true, "alignment": true, "style": true, "color": true, "colour": true, "size": true,
	"position": true, "width": true, "spacing": true, "padding": true, "margin": true, "font": true,
}

// eachNegWord calls fn with every boilerplate word of the lower-cased
// class or id string ci.
func eachNegWord(ci string, fn func(w string)) {
	for w := range classWords(ci) {
		if negativeWords[w] {
			fn(w)
		}
	}
}

// classWords yields the words of the lower-cased class or id string ci:
// its runs of ASCII letters and digits.
func classWords(ci string) iter.Seq[string] {
	return func(yield func(string) bool) {
		start := -1
		for i := 0; i <= len(ci); i++ {
			if i < len(ci) && (ci[i] >= 'a' && ci[i] <= 'z' || ci[i] >= '0' && ci[i] <= '9') {
				if start < 0 {
					start = i
				}
				continue
			}
			if start >= 0 && !yield(ci[start:i]) {
				return
			}
			start = -1
		}
	}
}

// partIndex finds which of a fixed list of substrings occur in a string in
// one scan: a bitmap of the parts' first three bytes rules out most
// positions, and the parts are filed by their first two bytes. It is built
// once from the constant lists above and never changes.
type partIndex struct {
	first [1 << 16 / 64]uint64 // bit set for every hashed first byte triple
	parts map[uint16][]string
}

func triple(s string) uint16 {
	return uint16(s[0])*961 + uint16(s[1])*31 + uint16(s[2])
}

func newPartIndex(parts []string) *partIndex {
	ix := &partIndex{parts: make(map[uint16][]string, len(parts))}
	for _, p := range parts {
		p = strings.ToLower(p)
		if len(p) < 3 {
			continue // never matched: TestClassParts keeps the lists clean
		}
		h := triple(p)
		ix.first[h/64] |= 1 << (h % 64)
		k := uint16(p[0])<<8 | uint16(p[1])
		ix.parts[k] = append(ix.parts[k], p)
	}
	return ix
}

// in reports whether any part occurs in s.
func (ix *partIndex) in(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		h := triple(s[i:])
		if ix.first[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		for _, p := range ix.parts[uint16(s[i])<<8|uint16(s[i+1])] {
			if strings.HasPrefix(s[i:], p) {
				return true
			}
		}
	}
	return false
}

var (
	strongIndex   = newPartIndex(strongPositiveParts)
	negativeIndex = newPartIndex(negativeParts)
)

// wordFlags has, for each word of negativeWords and positiveWords that
// counts, flagNegWord or flagPosWord: one look-up for a word of a class.
var wordFlags = func() map[string]uint8 {
	m := make(map[string]uint8)
	for w, ok := range negativeWords {
		if ok {
			m[w] |= flagNegWord
		}
	}
	for w, ok := range positiveWords {
		if ok {
			m[w] |= flagPosWord
		}
	}
	return m
}()
