package content

import "strings"

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
	"alert": true, "notice": true, "disclaimer": true, "copyright": true,
	"meta": true, "timestamp": true, "date": true, "dateline": false,
	"topics": true, "keywords": true, "embed": false, "sticky": true,
	"header": true, "subnav": true, "shoutbox": true, "skyscraper": true,
	"legal": true, "feedback": true, "paid": true, "affiliate": false,
	"hide": true, "jump": true, "inline-related": true, "readmore": true,
	"read-more": true, "cta": true, "sns": true,
	"whatsapp": true, "pinterest": true, "linkedin": true,
	"email": true, "dates": true, "recent": true, "latest": true,
	"published": true, "updated": true, "time": true,
}

// Substrings of a class or id that mark boilerplate even inside a longer
// word ("socialshare", "mostpopularlist").
var negativeParts = []string{
	"related", "share", "social", "comment", "newsletter", "cookie", "advert",
	"sponsor", "promo", "breadcrumb", "outbrain", "taboola",
	"most-read", "mostread", "most-popular", "mostpopular", "recommend",
	"subscri", "footer", "sr-only", "visually-hidden", "screen-reader",
	"visuallyhidden", "hidden-text", "signup", "paywall", "byline", "author-info",
	"authorinfo", "post-meta", "article-meta", "entry-meta", "-tags", "tags-",
	"more-stories", "morestories", "read-next", "readnext", "also-read",
	"up-next", "next-article", "prev-next", "adblock", "ad-slot", "ad-wrap",
	"ad-container", "ad-unit", "adunit", "adcontainer", "google-ad", "dfp-",
	"nativo", "zergnet", "nocontent", "caption", "publish-info", "pubdate",
}

// Words in a class or id that mark the article itself.
var positiveWords = map[string]bool{
	"article": true, "articlebody": true, "body": true, "content": true,
	"entry": true, "main": true, "post": true, "story": true, "storybody": true,
	"text": true, "blog": true, "hentry": true, "prose": true, "richtext": true,
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
	"article__main", "c-entry-content", "articleBody",
}

// classWeight classifies a lower-cased class-and-id string: 2 for a strong
// article-body marker, -1 for boilerplate (a negative part anywhere, or a
// negative word without a positive one), +1 for the article, 0 for neither.
func classWeight(ci string) int {
	if ci == "" {
		return 0
	}
	for _, p := range strongPositiveParts {
		if strings.Contains(ci, p) {
			return 2
		}
	}
	for _, p := range negativeParts {
		if strings.Contains(ci, p) {
			return -1
		}
	}
	neg, pos := false, false
	start := -1
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
			if negativeWords[w] {
				neg = true
			} else if positiveWords[w] {
				pos = true
			}
			start = -1
		}
	}
	// A positive word wins over a weak negative one: "content has-sidebar"
	// is the content.
	switch {
	case pos:
		return 1
	case neg:
		return -1
	}
	return 0
}
