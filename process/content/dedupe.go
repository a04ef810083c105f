package content

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html/atom"
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
	afterNotice := false // the last paragraph was a notice such as "Related"
	for i, p := range ps {
		k := keys[i]
		drop := false
		notice := false
		switch {
		case k == "":
			drop = true
		case afterNotice && x.linkDensity(p) > 0.5:
			// the links under a "Don't miss" or "Related" heading
			drop, notice = true, true
		case title != "" && i < 4 && isTitle(k, title):
			drop = true
		case desc != "" && k == desc && laterContains(keys[i+1:], desc):
			drop = true
		case i < 3 && len(k) >= 60 && laterContains(keys[i+1:], k):
			// A lead that the body repeats, whether or not it is the
			// page's description (which may be missing or cut short).
			drop = true
		case len(k) >= 80 && seen[k]:
			drop = true
		case isNotice(k):
			drop, notice = true, true
		case x.isFurniture(p, k, title):
			drop = true
		}
		afterNotice = notice
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
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			// ASCII, most of most pages: one table look-up.
			i++
			if c = foldASCII[c]; c == 0 {
				space = true
				continue
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte(c)
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
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

// foldASCII maps an ASCII letter or digit to itself lower-cased and any
// other ASCII character to 0.
var foldASCII = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			t[c] = byte(c)
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

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
	"read next": true, "up next": true, "don t miss": true, "must read": true,
	"further reading": true, "more stories": true, "more news": true, "top stories": true, "also read": true, "watch": true,
	"image": true, "photo": true, "video": true, "getty images": true,
	"please follow and like us": true, "share with": true, "share on": true,
	"about the author": true, "über den autor": true, "bildquelle": true,
	"rate this post": true, "rate this article": true, "was this article helpful": true,
	"advertisement scroll to continue with content": true,
	// Labels of a page's own navigation: a table of contents, a jump back.
	"table of contents": true, "contents": true, "in this article": true,
	"on this page": true, "back to top": true, "show caption": true,
	"article continues below": true, "why trust us": true, "share this post": true,
	"recommended stories": true, "recommended articles": true, "recommended posts": true,
	"recommended reading": true, "related posts": true, "related reading": true,
	"you may be interested in the following topics as well": true, "you might like": true, "you might also like": true,
	"join the conversation": true, "in partnership with": true, "cookie consent": true,
	// Calls to action: the buttons of a product page or a sign-up box.
	"get started": true, "get started today": true, "get started for free": true,
	"get started now": true, "book a demo": true, "book a free demo": true,
	"request a demo": true, "request a quote": true, "start free trial": true,
	"start your free trial": true, "start a free trial": true, "try it free": true,
	"try it for free": true, "try for free": true, "register": true, "register now": true,
	"loading posts": true, "loading comments": true, "loading paragraph": true,
	"sign up now": true, "sign up for free": true, "download now": true,
	"get the free ebook": true, "download the free ebook": true, "share your story": true,
	"how was this issue": true, "this story is funded by readers like you": true,
	"stay connected with me": true, "stay connected with us": true, "take the next step": true,
}

// Folded prefixes of a short notice: a shop's button ("See price at Shop").
var noticePrefixes = []string{"see price at ", "check price at ", "view price at ", "buy now at "}

// isNotice reports whether the folded paragraph k is page furniture.
func isNotice(k string) bool {
	if len(k) > 60 {
		return false
	}
	if notices[k] {
		return true
	}
	if len(k) < 40 {
		for _, p := range noticePrefixes {
			if strings.HasPrefix(k, p) {
				return true
			}
		}
	}
	return false
}

// Folded prefixes of a paragraph that points readers elsewhere ("Read more:
// ..."); such a paragraph is furniture when it is mostly a link.
var pointerPrefixes = []string{
	"read more", "read also", "also read", "see more", "see also", "more ", "also ",
	"related", "watch ", "listen ", "recommended", "don t miss", "click here",
	"leggi anche", "lesen sie auch", "mehr zum thema", "lire aussi", "à lire aussi",
	"baca juga", "ver también", "veja também", "leia também", "lees ook",
}

// Folded phrases that mark a short paragraph as a notice about the page or
// the publisher rather than the story.
var furniturePhrases = []string{
	"contributed to this report", "contributed reporting", "contributed to this story",
	"all rights reserved", "click here",
	"follow us on", "download the app", "get the app", "newsletter",
	"this article was originally published", "copyright", "filed under",
	"reporting by", "editing by", "writing by", "additional reporting",
}

// isFurniture reports whether paragraph p (folded k) is page furniture: a
// date line, a credit, a copyright or subscription notice, a pointer to
// another story. A phrase of furniturePhrases that the folded title holds
// is the story's subject there ("How to write a newsletter"), no notice.
func (x *extractor) isFurniture(p para, k, title string) bool {
	if len(k) > 300 {
		return false
	}
	ld := x.linkDensity(p)
	if ld > 0.5 {
		for _, pre := range pointerPrefixes {
			if strings.HasPrefix(k, pre) {
				return true
			}
		}
		if isUpper(p.text) && p.tag == atom.P && strings.Count(k, " ") >= 6 {
			return true
		}
	}
	if (containsWord(k, "follow") || strings.Contains(k, "subscribe")) && countAny(k, socialWords) >= 2 {
		return true // "Follow us on X, Y and Z", not "following Facebook's lead"
	}
	if len(k) < 200 {
		for _, pre := range callPrefixes {
			if strings.HasPrefix(k, pre) && containsAny(k, socialWords) {
				return true
			}
		}
		for _, ph := range furniturePhrases {
			if strings.Contains(k, ph) && !strings.Contains(title, ph) && (ph != "copyright" || isCopyrightNotice(p.text, k)) {
				return true
			}
		}
		if strings.HasPrefix(p.text, "©") || isCaption(p.text) {
			return true
		}
	}
	if len(k) < 300 && isDisclosure(k) {
		return true
	}
	if len(p.text) > 200 {
		return false
	}
	return len(k) < 80 && isDateLine(k) || isAddressOnly(p.text) || isByline(p.text) || isHashtags(p.text)
}

// bylinePrefixes open a byline in a few languages, folded.
var bylinePrefixes = []string{"By ", "BY ", "Written by ", "Posted by ", "Von ", "Par ", "Por ", "Door ", "Di ", "Av ", "Af "}

// isByline reports whether text is a byline: "By Jane Roe and John Doe",
// "Written by Jane Roe", "By Jane Roe ⋅ Senior Editor ⋅ Updated May 6".
func isByline(text string) bool {
	if len(text) > 120 {
		return false
	}
	rest := ""
	for _, p := range bylinePrefixes {
		if strings.HasPrefix(text, p) {
			rest = text[len(p):]
			break
		}
	}
	// The name ends where the byline goes on with a role or a date:
	// "By Jane Roe ⋅ Senior Editor ⋅ Updated May 6".
	if i := strings.IndexAny(rest, "⋅•·|"); i > 0 {
		rest = rest[:i]
	} else if len(text) > 80 {
		return false
	}
	words := strings.Fields(rest)
	if len(words) == 0 || len(words) > 8 {
		return false
	}
	for _, w := range words {
		switch w {
		case "and", "und", "et", "y", "e", "en", "og", "och", "&", ",", "-", "—", "|":
			continue
		}
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

// isHashtags reports whether text is only hashtags.
func isHashtags(text string) bool {
	// The words are the runs of bytes other than spaces and commas
	// (ASCII: no byte of a multi-byte character is either).
	n := 0
	for i := 0; i < len(text); i++ {
		if c := text[i]; c == ' ' || c == ',' || i > 0 && text[i-1] != ' ' && text[i-1] != ',' {
			continue // not the start of a word
		}
		if text[i] != '#' {
			return false
		}
		n++
	}
	return n > 0
}

// Folded openings of a call to action: subscribe, follow, share.
var callPrefixes = []string{
	"subscribe", "sign up", "follow ", "like this story", "share this",
	"join us", "join our", "download our", "get our", "folgt uns", "folgen sie uns",
	"folge uns", "suivez nous", "síguenos", "seguici", "siga nos",
}

// socialWords name the channels a call to action points to.
var socialWords = []string{
	"facebook", "twitter", "instagram", "youtube", "newsletter", "linkedin",
	"tiktok", "telegram", "whatsapp", "podcast", "coverage", "friend",
}

// isCopyrightNotice reports whether a paragraph (text, folded k) that
// names copyright is a notice ("© 2025 Example Media", "Copyright ⓒ
// Example. All rights reserved") rather than a sentence about copyright:
// it begins with the word, or has a sign, a year or the rights reserved.
func isCopyrightNotice(text, k string) bool {
	if strings.HasPrefix(k, "copyright") || strings.Contains(k, "reserved") || strings.ContainsAny(text, "©ⓒ") {
		return true
	}
	for _, w := range strings.Fields(k) {
		if len(w) == 4 && (w[:2] == "19" || w[:2] == "20") && isDigits(w) {
			return true
		}
	}
	return false
}

// countAny counts how many of subs occur in s.
func countAny(s string, subs []string) int {
	n := 0
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// isAddressOnly reports whether text is mostly e-mail addresses: an
// author's contact line. (Lists of source URLs are text.)
func isAddressOnly(text string) bool {
	fields, addr := 0, 0
	for f := range strings.FieldsSeq(text) {
		if fields++; fields > 12 {
			return false
		}
		if strings.Contains(f, "@") && strings.Contains(f, ".") && !strings.Contains(f, "/") {
			addr++
		}
	}
	return addr > 0 && addr*2 >= fields
}

// isUpper reports whether s has letters and none of them is lower-case.
func isUpper(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters > 0
}

// dateWords are the words, besides numbers, of a date and time line.
var dateWords = map[string]bool{
	"jan": true, "january": true, "feb": true, "february": true, "mar": true,
	"march": true, "apr": true, "april": true, "may": true, "jun": true,
	"june": true, "jul": true, "july": true, "aug": true, "august": true,
	"sep": true, "sept": true, "september": true, "oct": true, "october": true,
	"nov": true, "november": true, "dec": true, "december": true,
	"mon": true, "monday": true, "tue": true, "tues": true, "tuesday": true,
	"wed": true, "wednesday": true, "thu": true, "thur": true, "thurs": true,
	"thursday": true, "fri": true, "friday": true, "sat": true, "saturday": true,
	"sun": true, "sunday": true, "am": true, "pm": true, "a": true, "p": true,
	"m": true, "est": true, "edt": true, "cst": true, "cdt": true, "pst": true,
	"pdt": true, "mst": true, "mdt": true, "gmt": true, "bst": true, "utc": true,
	"cet": true, "cest": true, "ist": true, "et": true, "pt": true, "updated": true,
	"published": true, "posted": true, "on": true, "at": true, "by": true,
	"today": true, "yesterday": true, "last": true, "first": true, "and": true,
	"ago": true, "hours": true, "hour": true, "minutes": true, "min": true,
	"mins": true, "days": true, "day": true, "modified": true,
	// French, German, Spanish, Italian and Portuguese months and the words
	// around a time.
	"janvier": true, "février": true, "mars": true, "avril": true, "mai": true,
	"juin": true, "juillet": true, "août": true, "septembre": true,
	"octobre": true, "novembre": true, "décembre": true, "januar": true,
	"februar": true, "märz": true, "juni": true, "juli": true, "oktober": true,
	"dezember": true, "enero": true, "febrero": true, "marzo": true,
	"abril": true, "mayo": true, "junio": true, "julio": true, "agosto": true,
	"septiembre": true, "octubre": true, "noviembre": true, "diciembre": true,
	"gennaio": true, "febbraio": true, "aprile": true, "maggio": true,
	"giugno": true, "luglio": true, "settembre": true, "ottobre": true,
	"dicembre": true, "janeiro": true, "fevereiro": true, "março": true,
	"maio": true, "junho": true, "julho": true, "setembro": true,
	"outubro": true, "novembro": true, "dezembro": true, "à": true, "um": true,
	"uhr": true, "h": true, "de": true, "del": true, "le": true,
	"aktualisiert": true, "veröffentlicht": true, "publié": true, "mis": true,
	"jour": true, "actualizado": true, "publicado": true,
}

// isDateLine reports whether the folded line k is a date or time stamp
// ("Nov. 20, 2019 5:52 AM EST", "Updated 10:48, Tue, Nov 19").
func isDateLine(k string) bool {
	words := strings.Fields(k)
	if len(words) < 2 {
		return false
	}
	digits, named, other := 0, 0, 0
	for _, w := range words {
		switch {
		case w[0] >= '0' && w[0] <= '9':
			digits++
		case dateWords[w]:
			if len(w) > 2 && w != "and" && w != "last" && w != "first" && w != "del" && w != "uhr" && w != "mis" {
				named++
			}
		default:
			other++
		}
	}
	return digits > 0 && named > 0 && other == 0
}

// linkDensity is the share of p's text inside links, when p is all of its
// element (0 otherwise).
func (x *extractor) linkDensity(p para) float64 {
	if p.whole && p.node != nil {
		return x.st.get(p.node).linkDensity()
	}
	return 0
}

// captionMarks open or end a photo caption or credit.
var captionMarks = []string{"(credit:", "(Credit:", "(Photo:", "(photo:", "(Image:", "(Foto:", "Photo credit", "Image credit"}

// isCaption reports whether the short text is a photo caption or credit.
func isCaption(text string) bool {
	for _, p := range []string{"Photo:", "Image:", "Foto:", "Picture:", "Credit:", "PHOTO:", "IMAGE:", "Bild:", "(Bild:", "Bildquelle:"} {
		if strings.HasPrefix(text, p) {
			return true
		}
	}
	return containsAny(text, captionMarks)
}

// trimTail drops what follows the article's last sentence: a heading with
// nothing under it, and lines of a few words that end no sentence ("Tags", "Join the
// conversation", "Book a demo"): the labels and calls to action that sit
// between an article and the page's furniture. A line with a number
// (a date, a price, a phone number) may be the article's and is kept. List items and table cells
// are kept: a list may end an article.
func trimTail(ps []para) []para {
	for len(ps) > 1 {
		p := ps[len(ps)-1]
		switch p.tag {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		case atom.Li, atom.Td, atom.Th, atom.Dd, atom.Dt, atom.Pre:
			return ps
		default:
			if len(strings.Fields(p.text)) > 5 || endsWithStop(p.text) || strings.ContainsAny(p.text, "0123456789") {
				return ps
			}
		}
		if p.whole && p.node != nil {
			removeNode(p.node)
		}
		ps = ps[:len(ps)-1]
	}
	return ps
}

// endsWithStop reports whether s ends with a sentence's last punctuation
// (or a colon, which introduces what follows), or a closing quote or
// bracket after it.
func endsWithStop(s string) bool {
	s = strings.TrimRight(s, "\"'”’»)] ")
	r, _ := utf8.DecodeLastRuneInString(s)
	switch r {
	case '.', '!', '?', '…', '。', '！', '？', ':':
		return true
	}
	return false
}

// isDisclosure reports whether the folded paragraph k is an affiliate
// disclosure: the publisher's notice that links on the page earn it a
// commission ("We may earn a commission when you buy through our links"),
// which a site puts on every page it earns from and which is not the story.
func isDisclosure(k string) bool {
	notice := strings.Contains(k, "affiliate link") && containsAny(k, []string{"contain", "commission", "earn", "may "}) ||
		strings.Contains(k, "qualifying purchases") ||
		strings.Contains(k, "commission") && containsAny(k, []string{"earn", "receive"}) &&
			containsAny(k, []string{"link", "purchas", "buy"})
	// The publisher speaks of itself: "we may earn", "this post
	// contains"; an article about affiliate marketing does not.
	return notice && containsAny(" "+k+" ", selfWords)
}

// selfWords, folded and spaced, are how a notice names the publisher or
// the page it is on.
var selfWords = []string{
	" we ", " us ", " our ", " i ", " my ", " may ", " this post ", " this page ",
	" this article ", " this site ", " this website ",
}
