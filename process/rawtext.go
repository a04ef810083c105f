package process

import (
	"bytes"
	"sync"

	"golang.org/x/net/html"
)

// dropUnread returns the page without what extraction never reads:
// the text of its scripts, style sheets and comments, the content of its
// inline SVG images (about half the bytes of a news page and a fifth of
// html.Parse's time), and the attributes that no stage reads (see
// unreadAttr). The scripts that extraction reads keep their text:
// JSON-LD (an attribute value holding "ld+json", its '+' maybe a character
// reference) and those that place streamed content (holding "$R", see
// revealStreamed in content).
//
// It lexes the page as x/net/html's tokenizer does (tags and their quoted
// attributes, comments, raw text and the escapes of script text), so that
// the parser builds the same tree but for what was dropped. Where the
// lexing depends on parser state it does not follow (MathML, SVG content
// it cannot pair, CDATA, <plaintext>, a frameset) it keeps the rest of the
// page as it is. The result is b itself when nothing was dropped, else a
// buffer from a pool: give it back with releaseText once parsed.
func dropUnread(b []byte) []byte {
	s := rawScanner{b: b}
	s.run()
	if s.out == nil {
		return b
	}
	return append(s.out, b[s.from:]...)
}

// textBuffers hold the pages that dropUnread writes.
var textBuffers sync.Pool

// releaseText returns a page that dropUnread made from b to the pool.
func releaseText(page, b []byte) {
	if len(page) > 0 && len(b) > 0 && &page[0] != &b[0] && cap(page) <= 8<<20 {
		page = page[:0]
		textBuffers.Put(&page)
	}
}

// rawScanner is the state of dropUnread.
type rawScanner struct {
	b    []byte
	i    int
	out  []byte // the page so far, once something was dropped
	from int    // b[from:] is not yet in out
	// foreign is the stack of open SVG elements (lower-case names), and
	// svgText where the outermost one's content starts.
	foreign []string
	svgText int
	// attrs are the current tag's attributes, as spans of b.
	attrs []attrSpan
}

// attrSpan is an attribute of a tag: its name, its value and its end
// (past a closing quote) as offsets in the page.
type attrSpan struct{ key, keyEnd, val, valEnd, end int }

// cut drops b[start:end], which is after what it dropped before.
func (s *rawScanner) cut(start, end int) {
	if end <= start || start < s.from {
		return
	}
	if s.out == nil {
		if p, ok := textBuffers.Get().(*[]byte); ok && cap(*p) >= len(s.b) {
			s.out = (*p)[:0]
		} else {
			s.out = make([]byte, 0, len(s.b))
		}
	}
	s.out = append(s.out, s.b[s.from:start]...)
	s.from = end
}

func (s *rawScanner) run() {
	b := s.b
	for {
		j := bytes.IndexByte(b[s.i:], '<')
		if j < 0 {
			return
		}
		s.i += j + 1
		if s.i >= len(b) {
			return
		}
		c := b[s.i]
		var ok bool
		switch {
		case isLetter(c):
			ok = s.startTag()
		case c == '/':
			ok = s.endTag()
		case c == '!':
			ok = s.markup()
		case c == '?':
			ok = s.untilCloseAngle()
		default:
			ok = true // text: c is read again
		}
		if !ok {
			return
		}
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSpace(c byte) bool { return byteClass[c] == classSpace }

// untilCloseAngle skips to just past the next '>'.
func (s *rawScanner) untilCloseAngle() bool {
	j := bytes.IndexByte(s.b[s.i:], '>')
	if j < 0 {
		return false
	}
	s.i += j + 1
	return true
}

// markup reads what follows "<!": a comment, a doctype or a bogus comment.
func (s *rawScanner) markup() bool {
	s.i++ // '!'
	b := s.b
	if len(b)-s.i < 2 {
		return false
	}
	if b[s.i] == '-' && b[s.i+1] == '-' {
		s.i += 2
		return s.comment()
	}
	if len(s.foreign) > 0 && bytes.HasPrefix(b[s.i:], []byte("[CDATA[")) {
		return false // CDATA only in foreign content: not followed
	}
	return s.untilCloseAngle()
}

// comment reads a comment to its end, as the tokenizer's readComment
// does ("-->", "--!>", or "<!-->" and "<!--->"), and drops its text.
func (s *rawScanner) comment() bool {
	b := s.b
	start := s.i
	dashes, beginning := 0, true
	for s.i < len(b) {
		c := b[s.i]
		s.i++
		switch c {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 {
				s.cutComment(start, s.i-len("-->"))
				return true
			}
			if beginning {
				return true
			}
		case '!':
			if dashes >= 2 {
				if s.i >= len(b) {
					return false
				}
				c = b[s.i]
				s.i++
				if c == '>' {
					s.cutComment(start, s.i-len("--!>"))
					return true
				}
				if c == '-' {
					dashes, beginning = 1, false
					continue
				}
			}
		}
		dashes, beginning = 0, false
	}
	return false
}

// cutComment drops a comment's text, but in SVG content (dropped whole
// at its end).
func (s *rawScanner) cutComment(start, end int) {
	if len(s.foreign) == 0 {
		s.cut(start, end)
	}
}

// Classes of the bytes that end a tag's name, an attribute's name or an
// unquoted value.
const (
	classSpace = 1 << iota
	classSlash
	classGT
	classEq
)

var byteClass = [256]uint8{' ': classSpace, '\n': classSpace, '\r': classSpace, '\t': classSpace, '\f': classSpace,
	'/': classSlash, '>': classGT, '=': classEq}

// tag reads a tag from its name (s.i at its first letter) to just past
// its '>', as the tokenizer's readTag does, and returns the name's span.
// It is false at the end of the page.
func (s *rawScanner) tag() (name, nameEnd int, ok bool) {
	b := s.b
	s.attrs = s.attrs[:0]
	name = s.i
	i := s.i + 1
	for i < len(b) && byteClass[b[i]]&(classSpace|classSlash|classGT) == 0 {
		i++
	}
	nameEnd = i
	for {
		for i < len(b) && byteClass[b[i]] == classSpace {
			i++
		}
		if i >= len(b) {
			return 0, 0, false
		}
		if b[i] == '>' {
			s.i = i + 1
			return name, nameEnd, true
		}
		// The attribute's name; "=" first is part of it.
		a := attrSpan{key: i}
		if b[i] == '=' {
			i++
		}
		for i < len(b) && byteClass[b[i]] == 0 {
			i++
		}
		a.keyEnd = i
		// Its value.
		a.val, a.valEnd = i, i
		for i < len(b) && byteClass[b[i]] == classSpace {
			i++
		}
		if i >= len(b) {
			return 0, 0, false
		}
		switch b[i] {
		case '/':
			i++
		case '=':
			i++
			for i < len(b) && byteClass[b[i]] == classSpace {
				i++
			}
			if i >= len(b) {
				return 0, 0, false
			}
			switch q := b[i]; q {
			case '>':
				a.end = i
			case '\'', '"':
				j := bytes.IndexByte(b[i+1:], q)
				if j < 0 {
					return 0, 0, false
				}
				a.val, a.valEnd = i+1, i+1+j
				i += j + 2
				a.end = i
			default:
				a.val = i
				for i++; i < len(b) && byteClass[b[i]]&(classSpace|classGT) == 0; i++ {
				}
				if i >= len(b) {
					return 0, 0, false
				}
				a.valEnd, a.end = i, i
				if b[i] != '>' {
					i++
				}
			}
		}
		if a.end == 0 {
			a.end = a.keyEnd
		}
		s.attrs = append(s.attrs, a)
	}
}

// skipSpace skips white space; it is false at the end of the page.
func (s *rawScanner) skipSpace() bool {
	for s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.i++
	}
	return s.i < len(s.b)
}

// selfClosing reports whether the tag just read, which ends at s.i, is
// self-closing by the tokenizer's rule: a '/' before its '>' that is not
// the end of the value of its last attribute (the first of each name).
func (s *rawScanner) selfClosing() bool {
	if s.b[s.i-2] != '/' {
		return false
	}
	last := -1
	for k, a := range s.attrs {
		if a.keyEnd == a.key {
			continue
		}
		dup := false
		for _, p := range s.attrs[:k] {
			if p.keyEnd > p.key && asciiEqualFold(s.b[p.key:p.keyEnd], s.b[a.key:a.keyEnd]) {
				dup = true
				break
			}
		}
		if !dup {
			last = k
		}
	}
	return last < 0 || s.i-2 != s.attrs[last].valEnd-1
}

// rawTags are the elements whose text the tokenizer reads raw, up to their
// end tag (plaintext aside: to the end of the page).
var rawTags = []string{"script", "style", "iframe", "noembed", "noframes", "noscript", "textarea", "title", "xmp"}

// rawTagOf returns the name of a raw-text element, or "".
func rawTagOf(name []byte) string {
	if len(name) < 3 || len(name) > 8 {
		return ""
	}
	switch name[0] | 0x20 {
	case 's', 'i', 'n', 't', 'x':
		for _, t := range rawTags {
			if asciiEqualFold(name, []byte(t)) {
				return t
			}
		}
	}
	return ""
}

// breakout are the start tags that end SVG content (x/net/html's list, and
// font), and the SVG elements whose content is HTML.
var breakout = map[string]bool{
	"b": true, "big": true, "blockquote": true, "body": true, "br": true, "center": true, "code": true,
	"dd": true, "div": true, "dl": true, "dt": true, "em": true, "embed": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "head": true, "hr": true, "i": true, "img": true,
	"li": true, "listing": true, "menu": true, "meta": true, "nobr": true, "ol": true, "p": true,
	"pre": true, "ruby": true, "s": true, "small": true, "span": true, "strong": true, "strike": true,
	"sub": true, "sup": true, "table": true, "tt": true, "u": true, "ul": true, "var": true, "font": true,
	"foreignobject": true, "desc": true,
}

// startTag reads a start tag and, for a raw-text element, its text.
func (s *rawScanner) startTag() bool {
	n, ne, ok := s.tag()
	if !ok {
		return false
	}
	name := s.b[n:ne]
	raw := rawTagOf(name)
	if len(s.foreign) > 0 {
		return s.foreignStart(name, raw)
	}
	s.dropAttrs()
	if c := name[0] | 0x20; raw == "" && c != 's' && c != 'm' && c != 'p' && c != 'f' {
		return true // the common case: none of the names below
	}
	switch {
	case asciiEqualFold(name, []byte("svg")):
		if !s.selfClosing() {
			s.foreign = append(s.foreign[:0], "svg")
			s.svgText = s.i
		}
		return true
	case asciiEqualFold(name, []byte("math")), asciiEqualFold(name, []byte("plaintext")),
		asciiEqualFold(name, []byte("frameset")):
		return false
	case raw == "script":
		start := s.i
		end := s.scriptEnd()
		if !s.keepScript(start, end) {
			s.cut(start, end)
		}
		s.i = end
	case raw != "":
		end := s.rawEnd(raw)
		if raw == "style" {
			s.cut(s.i, end)
		}
		s.i = end
	}
	return true
}

// dropAttrs drops the attributes of the start tag just read that
// extraction never reads (see unreadAttr). An attribute that no white
// space sets apart from what precedes it is kept, so that no two names
// run together and no '/' before it comes to end the tag.
func (s *rawScanner) dropAttrs() {
	for _, a := range s.attrs {
		if a.keyEnd > a.key && isSpace(s.b[a.key-1]) && unreadAttr(s.b[a.key:a.keyEnd], s.b[a.val:a.valEnd]) {
			s.cut(a.key, a.end)
		}
	}
}

// unreadAttr reports whether extraction never reads an attribute of this
// name and value: data-* but the lazy image sources sanitize reads,
// aria-* but aria-hidden and aria-controls, event handlers (on*),
// responsive image candidates (srcset, sizes), loading and layout hints,
// and inline styles that cannot hide an element (see hidden in content:
// no "none", no "hidden", no character reference). On modern pages they
// are about a sixth of the bytes left once scripts are gone, and each
// attribute the parser keeps costs it two strings.
func unreadAttr(key, val []byte) bool {
	switch key[0] | 0x20 {
	case 'd':
		if len(key) > 5 && asciiEqualFold(key[:5], []byte("data-")) {
			k := key[5:]
			return !asciiEqualFold(k, []byte("src")) && !asciiEqualFold(k, []byte("original")) &&
				!asciiEqualFold(k, []byte("lazy-src")) && !asciiEqualFold(k, []byte("url"))
		}
		return asciiEqualFold(key, []byte("decoding"))
	case 'a':
		if len(key) > 5 && asciiEqualFold(key[:5], []byte("aria-")) {
			k := key[5:]
			return !asciiEqualFold(k, []byte("hidden")) && !asciiEqualFold(k, []byte("controls"))
		}
	case 'o':
		return len(key) > 2 && key[1]|0x20 == 'n'
	case 's':
		switch {
		case asciiEqualFold(key, []byte("style")):
			return !bytes.Contains(val, []byte("none")) && !bytes.Contains(val, []byte("hidden")) &&
				bytes.IndexByte(val, '&') < 0
		case asciiEqualFold(key, []byte("srcset")), asciiEqualFold(key, []byte("sizes")):
			return true
		}
	case 'l':
		return asciiEqualFold(key, []byte("loading"))
	case 't':
		return asciiEqualFold(key, []byte("tabindex")) || asciiEqualFold(key, []byte("target"))
	case 'w':
		return asciiEqualFold(key, []byte("width"))
	case 'h':
		return asciiEqualFold(key, []byte("height"))
	case 'f':
		return asciiEqualFold(key, []byte("fetchpriority"))
	}
	return false
}

// foreignStart handles a start tag in SVG content, where no element's
// text is raw: the tags that may leave it or hold HTML end the scan, and
// a raw-text element is followed only when its text holds no '<' (lexed
// the same either way).
func (s *rawScanner) foreignStart(name []byte, raw string) bool {
	top := s.foreign[len(s.foreign)-1]
	lower := string(bytes.ToLower(name))
	if breakout[lower] || lower == "math" || lower == "plaintext" || top == "title" {
		return false
	}
	if raw != "" {
		end := s.rawEnd(raw)
		if bytes.IndexByte(s.b[s.i:end], '<') >= 0 {
			return false
		}
	}
	if !s.selfClosing() {
		s.foreign = append(s.foreign, lower)
	}
	return true
}

// endTag reads what follows "</". The end of SVG content drops the
// content, which extraction never reads either.
func (s *rawScanner) endTag() bool {
	at := s.i - 1
	s.i++
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '>':
		s.i++
		return true
	case !isLetter(c):
		return s.untilCloseAngle()
	}
	n, ne, ok := s.tag()
	if !ok {
		return false
	}
	if len(s.foreign) == 0 {
		return true
	}
	// An end tag in SVG content closes the innermost open element of its
	// name; one of no open SVG element's name is HTML's, not followed.
	for k := len(s.foreign) - 1; k >= 0; k-- {
		if asciiEqualFold(s.b[n:ne], []byte(s.foreign[k])) {
			s.foreign = s.foreign[:k]
			if k == 0 {
				s.cut(s.svgText, at)
			}
			return true
		}
	}
	return false
}

// keepScript reports whether the script whose text is b[start:end] is
// one that extraction reads: JSON-LD, or a streamed part's placement.
func (s *rawScanner) keepScript(start, end int) bool {
	for _, a := range s.attrs {
		v := s.b[a.val:a.valEnd]
		if containsFold(v, "ld+json") {
			return true
		}
		// Written with a character reference ("ld&#x2B;json").
		if bytes.IndexByte(v, '&') >= 0 && containsFold([]byte(html.UnescapeString(string(v))), "ld+json") {
			return true
		}
	}
	return bytes.Contains(s.b[start:end], []byte("$R"))
}

// rawEnd returns where the raw text from s.i ends: at "</" and the tag's
// name followed by white space, '/' or '>', or at the end of the page.
func (s *rawScanner) rawEnd(tag string) int {
	b := s.b
	for i := s.i; ; {
		j := bytes.Index(b[i:], []byte("</"))
		if j < 0 {
			return len(b)
		}
		i += j
		if s.isEndTag(i, tag) {
			return i
		}
		i += 2
	}
}

// isEndTag reports whether "</tag" followed by white space, '/' or '>'
// is at b[i:].
func (s *rawScanner) isEndTag(i int, tag string) bool {
	b := s.b
	k := i + 2 + len(tag)
	return k < len(b) && asciiEqualFold(b[i+2:k], []byte(tag)) && (isSpace(b[k]) || b[k] == '/' || b[k] == '>')
}

// scriptEnd returns where the script text from s.i ends, following the
// tokenizer's readScript: "<!--" escapes the text, and within an escape
// "<script" escapes it twice, where "</script>" does not end it.
func (s *rawScanner) scriptEnd() int {
	b := s.b
	i := s.i
	const (
		data = iota
		escaped
		double
	)
	state := data
	for i < len(b) {
		switch state {
		case data:
			j := bytes.IndexByte(b[i:], '<')
			if j < 0 {
				return len(b)
			}
			i += j
			if s.isEndTag(i, "script") {
				return i
			}
			if bytes.HasPrefix(b[i:], []byte("<!--")) {
				// The escape starts at "<!--"; its dashes count toward "-->".
				i += 2
				state = escaped
				continue
			}
			i++
		case escaped, double:
			j := bytes.IndexAny(b[i:], "-<")
			if j < 0 {
				return len(b)
			}
			i += j
			if b[i] == '-' {
				if bytes.HasPrefix(b[i:], []byte("-->")) {
					i += 3
					state = data
					continue
				}
				if bytes.HasPrefix(b[i:], []byte("--")) {
					// Dashes run on: "--->" ends too.
					k := i
					for k < len(b) && b[k] == '-' {
						k++
					}
					if k < len(b) && b[k] == '>' {
						i = k + 1
						state = data
						continue
					}
					i = k
					continue
				}
				i++
				continue
			}
			// '<'
			if state == escaped {
				if s.isEndTag(i, "script") {
					return i
				}
				switch {
				case i+1 >= len(b):
					return len(b)
				case b[i+1] == '/':
				case isLetter(b[i+1]):
					k := i + 1 + len("script")
					if k < len(b) && asciiEqualFold(b[i+1:k], []byte("script")) && (isSpace(b[k]) || b[k] == '/' || b[k] == '>') {
						i = k + 1
						state = double
						continue
					}
				default:
					// As x/net/html does (the standard says: escaped).
					state = data
				}
				i++
				continue
			}
			if s.isEndTag(i, "script") {
				i += len("</script") + 1
				state = escaped
				continue
			}
			i++
		}
	}
	return len(b)
}

// asciiEqualFold reports whether a and b are equal but for the case of
// ASCII letters.
func asciiEqualFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// containsFold reports whether b holds sub (lower-case ASCII) in any case.
func containsFold(b []byte, sub string) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if asciiEqualFold(b[i:i+len(sub)], []byte(sub)) {
			return true
		}
	}
	return false
}
