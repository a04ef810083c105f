package metadata

import (
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits that keep Extract cheap on huge or hostile pages.
const (
	maxMetas      = 2000
	maxJSONLD     = 50
	maxJSONLDSize = 1 << 20
	maxDateElems  = 400
	maxTextBytes  = 128 << 10
	maxBylines    = 50
	maxTimeElems  = 200
	maxHeadings   = 30
	maxButtons    = 100
)

// metaTag is one <meta> with the attribute that names it (lower-cased).
type metaTag struct {
	key     string // property, name, itemprop or http-equiv value
	content string
}

// timeElem is a <time> (or other element carrying a machine-readable
// date): its attribute value, and whether it is marked as the publication
// or the modification date.
type timeElem struct {
	value     string
	text      *html.Node
	published bool
	modified  bool
	discarded bool
	afterH1   bool
	near      bool
	inLink    bool
}

// page is what one walk over the document collects.
type page struct {
	lang       string
	metas      []metaTag
	jsonld     []string
	canonical  string
	amphtml    string
	relAuthors []string
	// authorLinks are the texts of links to an author's page (outside
	// page furniture), in page order.
	authorLinks []string
	titleTag    string
	h1          string
	h1Count     int
	// headings are the page's <h1> elements and the elements marked as a
	// post's title, in page order: the candidates for the visible headline.
	headings  []heading
	h1Seen    bool // the walk has passed the first <h1>
	h1Pos     int  // where the first <h1> starts in text
	linkDepth int  // how many <a> the walk is inside
	formDepth int  // how many <form> the walk is inside
	// classKinds caches what a class attribute, as written, says about
	// its element (see classWords), since lists repeat the same classes;
	// nameKinds what each class name, as written, says (see nameKind).
	classKinds map[string]uint8
	nameKinds  map[string]uint8
	times      []timeElem
	dateElems  []dateElem
	bylines    []*html.Node
	crumbs     []*html.Node
	imageSrc   string
	// text is the visible text, blocks on their own lines, and discarded
	// the text of footers, comments and asides; the walk writes them in
	// textBuf and discardedBuf.
	text, discarded       string
	textBuf, discardedBuf []byte
	textFull              bool
	// lowerText is text lower-cased, once it is needed (lowerTextSet),
	// after the walk.
	lowerText    string
	lowerTextSet bool
	// headlineDate is the date by the headline, once read
	// (headlineDateSet).
	headlineDate    time.Time
	headlineDateSet bool
	buttons         []string // the texts of buttons, which text leaves out
	// boundary is set when the walk passes an element's start or end
	// since the last text it wrote: the next text may need a soft
	// separator (see softBreak).
	boundary bool
}

// heading is a candidate for the visible headline.
type heading struct {
	text      string
	h1        bool // an <h1>, not an element marked by its class
	discarded bool // in page furniture
}

// dateElem is an element whose class or id says it holds a date.
type dateElem struct {
	n         *html.Node
	discarded bool
	afterH1   bool // the element comes after the page's first <h1>
	near      bool // and starts within nearHeadline bytes of text after it
	inLink    bool // the element is or is inside a link (to another page)
}

// attr returns the value of n's attribute key ("" when absent). The
// process package parses pages without the attributes no stage reads
// (data-*, most aria-*, srcset...: see unreadAttr there): reading a new
// one means taking it off that list.
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// walk collects everything Extract needs in one pass over the nodes of
// roots.
func (p *page) walk(roots ...*html.Node) {
	sc := walkPool.Get().(*walkScratch)
	p.textBuf, p.discardedBuf = sc.text[:0], sc.discarded[:0]
	p.classKinds, p.nameKinds = sc.classKinds, sc.nameKinds
	for _, n := range roots {
		p.visit(n, false, 0)
	}
	p.text, p.discarded = string(p.textBuf), string(p.discardedBuf)
	if cap(p.textBuf)+cap(p.discardedBuf) <= maxPooledText {
		sc.text, sc.discarded = p.textBuf[:0], p.discardedBuf[:0]
		sc.classKinds, sc.nameKinds = p.classKinds, p.nameKinds
		clear(sc.classKinds)
		clear(sc.nameKinds)
		walkPool.Put(sc)
	}
	p.textBuf, p.discardedBuf = nil, nil
	p.classKinds, p.nameKinds = nil, nil
}

// walkScratch is what a walk writes and caches in, and leaves for the
// next page's: the buffers of its texts, and its class caches (empty).
type walkScratch struct {
	text, discarded       []byte
	classKinds, nameKinds map[string]uint8
}

// walkPool keeps the scratch space of finished walks for the next ones: a
// page's text is written a piece at a time, and its buffer and caches
// would be grown many times over for each page.
var walkPool = sync.Pool{New: func() any { return new(walkScratch) }}

// maxPooledText is the most text buffer space kept for reuse (a single
// text node may take the text past maxTextBytes).
const maxPooledText = 1 << 20

// skipText are the elements whose text is never visible.
func skipText(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Iframe, atom.Object, atom.Select, atom.Textarea, atom.Button:
		return true
	}
	return false
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Br, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Tr, atom.Td, atom.Th,
		atom.Article, atom.Section, atom.Header, atom.Footer, atom.Aside, atom.Nav, atom.Ul, atom.Ol, atom.Table, atom.Blockquote,
		atom.Dd, atom.Dt, atom.Figcaption, atom.Address, atom.Main, atom.Form, atom.Hr, atom.Pre, atom.Time:
		return true
	}
	return false
}

// elemAttrs are the attributes of an element the walk classifies it by;
// id and itemprop are lower-cased, class is as written (classWords reads
// it).
type elemAttrs struct {
	id, class, itemprop, itemtype string
}

func readAttrs(n *html.Node) elemAttrs {
	var e elemAttrs
	for _, a := range n.Attr {
		switch a.Key {
		case "id":
			e.id = lowerASCIIish(a.Val)
		case "class":
			e.class = a.Val
		case "itemprop":
			e.itemprop = lowerASCIIish(a.Val)
		case "itemtype":
			e.itemtype = a.Val
		}
	}
	return e
}

// furnitureWords are class and id words of page furniture: footers,
// comments, sidebars, related-story lists.
var furnitureWords = []string{"footer", "comments", "comment-list", "commentlist", "sidebar", "related", "widget-area"}

// discardable reports whether n, whose class says classWords' ck, is page
// furniture whose dates are rarely the article's.
func discardable(n *html.Node, e elemAttrs, ck uint8) bool {
	switch n.DataAtom {
	case atom.Footer, atom.Aside, atom.Nav:
		return true
	case atom.Html, atom.Body, atom.Main, atom.Article, atom.Head:
		return false
	}
	return ck&classFurniture != 0 || furniture(e.id)
}

// furniture reports whether the lower-case class or id v has a word of
// furnitureWords, alone or with an affix (see furnitureAffix).
func furniture(v string) bool {
	for v != "" {
		var tok string
		if i := strings.IndexAny(v, " \t\n"); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			tok, v = v, ""
		}
		for _, w := range furnitureWords {
			if tok == w || (len(tok) > len(w) && furnitureAffix(tok, w)) {
				return true
			}
		}
	}
	return false
}

// furnitureAffix reports whether tok is w with a "-" or "_" affix, as in
// "footer-nav" or "site-footer".
func furnitureAffix(tok, w string) bool {
	if strings.HasPrefix(tok, w) {
		c := tok[len(w)]
		return c == '-' || c == '_'
	}
	if strings.HasSuffix(tok, w) {
		c := tok[len(tok)-len(w)-1]
		return c == '-' || c == '_'
	}
	return false
}

// dateWords in a class name mark an element that may hold a date (the
// markers htmldate looks for).
var dateWords = []string{"byline", "subline", "posted", "submitted", "created-post", "publication", "author", "autor", "post_detail", "field-content", "fa-clock", "fa-calendar", "fecha", "parution", "info", "dateline", "entry-meta", "post-meta"}

// dateFirstWords in an element's first attribute (id, else class, else
// itemprop) mark an element that may hold a date.
var dateFirstWords = []string{"date", "datum", "time", "meta", "publish"}

func (p *page) visit(n *html.Node, discarded bool, depth int) {
	if depth > 400 {
		return
	}
	switch n.Type {
	case html.TextNode:
		if discarded {
			if len(p.discardedBuf) < maxTextBytes/4 {
				p.discardedBuf = appendText(p.discardedBuf, n.Data, p.boundary)
			}
		} else if !p.textFull {
			p.textBuf = appendText(p.textBuf, n.Data, p.boundary)
			if len(p.textBuf) > maxTextBytes {
				p.textFull = true
			}
		}
		if n.Data != "" {
			p.boundary = false
		}
		return
	case html.ElementNode:
		// The element's start parts the text before it from its own
		// (and its end, below, its own from what follows); an element
		// whose text the walk skips keeps the mark until the next text.
		if softBoundary(n.DataAtom) {
			p.boundary = true
		}
	case html.DocumentNode:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			p.visit(c, discarded, depth+1)
		}
		return
	default:
		return
	}
	a := n.DataAtom
	switch a {
	case atom.Html:
		if p.lang == "" {
			p.lang = attr(n, "lang")
			if p.lang == "" {
				p.lang = attr(n, "xml:lang")
			}
		}
	case atom.Meta:
		p.addMeta(n)
		return
	case atom.Link:
		rel := strings.ToLower(attr(n, "rel"))
		for _, r := range strings.Fields(rel) {
			switch r {
			case "canonical":
				if p.canonical == "" {
					p.canonical = strings.TrimSpace(attr(n, "href"))
				}
			case "amphtml":
				if p.amphtml == "" {
					p.amphtml = strings.TrimSpace(attr(n, "href"))
				}
			case "image_src":
				if p.imageSrc == "" {
					p.imageSrc = strings.TrimSpace(attr(n, "href"))
				}
			}
		}
		return
	case atom.Title:
		if p.titleTag == "" && n.FirstChild != nil {
			p.titleTag = textOf(n, 1000)
		}
		return
	case atom.Script:
		if strings.Contains(strings.ToLower(attr(n, "type")), "ld+json") && len(p.jsonld) < maxJSONLD && n.FirstChild != nil {
			if s := n.FirstChild.Data; len(s) <= maxJSONLDSize {
				p.jsonld = append(p.jsonld, s)
			}
		}
		return
	case atom.H1:
		p.h1Count++
		t := textOf(n, 1000)
		if p.h1 == "" && !discarded {
			p.h1 = t
			p.h1Seen = true
			p.h1Pos = len(p.textBuf)
		}
		if len(p.headings) < maxHeadings && t != "" {
			p.headings = append(p.headings, heading{text: t, h1: true, discarded: discarded})
		}
	case atom.Time:
		if len(p.times) < maxTimeElems {
			te := timeElem{value: strings.TrimSpace(attr(n, "datetime")), text: n, discarded: discarded, afterH1: p.h1Seen, near: p.near(), inLink: p.linkDepth > 0}
			if te.value == "" {
				te.value = strings.TrimSpace(attr(n, "content"))
			}
			cls := strings.ToLower(attr(n, "class") + " " + attr(n, "itemprop"))
			_, hasPubdate := hasAttr(n, "pubdate")
			te.published = hasPubdate || strings.Contains(cls, "entry-date") || strings.Contains(cls, "published") || strings.Contains(cls, "datepublished") || strings.Contains(cls, "publish")
			te.modified = strings.Contains(cls, "updated") || strings.Contains(cls, "modified")
			p.times = append(p.times, te)
		}
	case atom.A:
		if strings.Contains(strings.ToLower(attr(n, "rel")), "author") && len(p.relAuthors) < 10 {
			if t := textOf(n, 200); t != "" {
				p.relAuthors = append(p.relAuthors, t)
			}
		} else if !discarded && p.formDepth == 0 && len(p.authorLinks) < 10 && isAuthorPage(attr(n, "href")) {
			if t := textOf(n, 200); t != "" && len(t) <= 60 {
				p.authorLinks = append(p.authorLinks, t)
			}
		}
	}
	if a == atom.Button && !discarded && len(p.buttons) < maxButtons {
		// A button's text is shown (a byline's name may open a card).
		var parts []string
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				parts = append(parts, c.Data)
			} else {
				parts = append(parts, textOf(c, 200))
			}
		}
		if t := collapse(strings.Join(parts, " ")); t != "" && len(t) <= 200 {
			p.buttons = append(p.buttons, t)
		}
	}
	if skipText(a) {
		return
	}
	e := readAttrs(n)
	if e.itemprop != "" {
		p.addItemprop(n, e.itemprop, discarded)
	}
	ck := p.classWords(e.class)
	if !discarded && discardable(n, e, ck) {
		discarded = true
	}
	kind := p.classKind(e, ck)
	if (a == atom.Small || kind&classDate != 0) && len(p.dateElems) < maxDateElems {
		p.dateElems = append(p.dateElems, dateElem{n: n, discarded: discarded, afterH1: p.h1Seen, near: p.near(), inLink: p.linkDepth > 0 || a == atom.A})
	}
	// A post's whole <article> may carry its author in a class
	// ("author-jane-doe"): not a byline.
	if !discarded && p.formDepth == 0 && len(p.bylines) < maxBylines && kind&classByline != 0 && a != atom.Article && a != atom.Main && a != atom.Body {
		p.bylines = append(p.bylines, n)
	}
	if kind&classTitle != 0 && a != atom.H1 && a != atom.A && len(p.headings) < maxHeadings {
		if t := textOf(n, 1000); t != "" && len(t) < 400 {
			p.headings = append(p.headings, heading{text: t, discarded: discarded})
		}
	}
	if len(p.crumbs) < 3 && (ck&classCrumb != 0 || strings.Contains(e.id, "breadcrumb") || strings.HasSuffix(e.itemtype, "BreadcrumbList")) {
		p.crumbs = append(p.crumbs, n)
	}
	// The depths are restored after the children (no defer: it would
	// cost every call of this recursive function).
	switch a {
	case atom.A:
		p.linkDepth++
	case atom.Form:
		p.formDepth++ // comment forms label their fields "author"
	}
	block := isBlock(a)
	if block && !discarded && !p.textFull {
		p.textBuf = append(p.textBuf, '\n')
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		p.visit(c, discarded, depth+1)
	}
	switch a {
	case atom.A:
		p.linkDepth--
	case atom.Form:
		p.formDepth--
	}
	if block && !discarded && !p.textFull {
		p.textBuf = append(p.textBuf, '\n')
	} else if block && discarded {
		p.discardedBuf = append(p.discardedBuf, '\n')
	}
	if softBoundary(a) {
		p.boundary = true
	}
}

// What an element's class (and id, itemprop) says it holds.
const (
	classDate uint8 = 1 << iota
	classByline
	classTitle
)

// titleWords in a class name (or itemprop) mark the element that holds a
// post's headline.
var titleWords = []string{"entry-title", "post-title", "post_title", "posttitle", "article-title", "article__title", "article_title", "headline", "page-title", "blog-title"}

// classKind classifies an element by its attributes, given what its class
// says (ck, from classWords); its id and itemprop are read each time.
func (p *page) classKind(e elemAttrs, ck uint8) uint8 {
	if e.class == "" && e.id == "" && e.itemprop == "" {
		return 0
	}
	k := ck &^ (classDateFirst | classNotByline | classFurniture | classCrumb)
	// The first of id, class and itemprop may name a date, and a class
	// may by its words.
	switch {
	case e.id != "":
		if classNameKind(e.id)&classDateFirst != 0 {
			k |= classDate
		}
	case e.class != "":
		if ck&classDateFirst != 0 {
			k |= classDate
		}
	default:
		if classNameKind(e.itemprop)&classDateFirst != 0 {
			k |= classDate
		}
	}
	if strings.Contains(e.itemprop, "author") {
		k |= classByline
	}
	// An author's description or bio ("Licensed Grader, M.A.") is not
	// the byline, whatever its class or itemprop says.
	if ck&classNotByline != 0 {
		k &^= classByline
	}
	if e.itemprop == "headline" {
		k |= classTitle
	}
	return k
}

// classDateFirst marks, in classWords' answer, a class that names a date
// when it is the element's first attribute (see classKind).
const classDateFirst uint8 = 1 << 7

// classNotByline marks, in classWords' answer, a class that names an
// author's description or bio, which is not a byline (see classKind).
const classNotByline uint8 = 1 << 6

// classFurniture marks, in classWords' answer, a class that names page
// furniture (see furniture).
const classFurniture uint8 = 1 << 5

// classCrumb marks, in classWords' answer, a class that names breadcrumbs.
const classCrumb uint8 = 1 << 4

// notBylineWords in a class name mark an author's description or bio.
var notBylineWords = []string{"description", "-bio", "_bio"}

// classWords is what the class attribute class, as written, says by
// itself once lower-cased (classDate, classByline, classTitle,
// classDateFirst, classNotByline, classFurniture, classCrumb), cached.
func (p *page) classWords(class string) uint8 {
	if class == "" {
		return 0
	}
	if k, ok := p.classKinds[class]; ok {
		return k
	}
	if p.classKinds == nil {
		p.classKinds = make(map[string]uint8)
		p.nameKinds = make(map[string]uint8)
	}
	// No word sought holds white space: the class says what its names
	// say, and pages repeat the names more than the classes. (No
	// character lower-cases to white space: the names of the class as
	// written are those of the class lower-cased.)
	var k uint8
	for rest := class; rest != ""; {
		var name string
		if i := strings.IndexAny(rest, " \t\n\r\f"); i >= 0 {
			name, rest = rest[:i], rest[i+1:]
		} else {
			name, rest = rest, ""
		}
		if name == "" {
			continue
		}
		nk, ok := p.nameKinds[name]
		if !ok {
			nk = nameKind(lowerASCIIish(name))
			if len(p.nameKinds) < 5000 {
				p.nameKinds[name] = nk
			}
		}
		k |= nk
	}
	if strings.ContainsAny(class, "\r\f") {
		// furniture parts words at spaces, tabs and newlines only.
		k &^= classFurniture
		if furniture(lowerASCIIish(class)) {
			k |= classFurniture
		}
	}
	if len(p.classKinds) < 5000 {
		p.classKinds[class] = k
	}
	return k
}

// nameKind is what one lower-case class name says: the words of
// classNameKind, and whether it names page furniture (classFurniture) or
// breadcrumbs (classCrumb).
func nameKind(name string) uint8 {
	k := classNameKind(name)
	if furniture(name) {
		k |= classFurniture
	}
	if strings.Contains(name, "breadcrumb") {
		k |= classCrumb
	}
	return k
}

// classNameKind is what one lower-case class name says (see classWords).
// It is also what any lower-case string holds of the words sought.
func classNameKind(name string) uint8 {
	var k uint8
	for i := 0; i < len(name); i++ {
		for _, cw := range classWordIndex[name[i]] {
			if strings.HasPrefix(name[i:], cw.word) {
				k |= cw.kind
			}
		}
	}
	return k
}

// classWord is a word classNameKind looks for, and what it says.
type classWord struct {
	word string
	kind uint8
}

// classWordIndex files the words of classNameKind by their first byte, so
// that a name is read once for all of them.
var classWordIndex = func() (idx [256][]classWord) {
	kinds := map[string]uint8{}
	var order []string
	for _, l := range []struct {
		words []string
		kind  uint8
	}{
		{dateFirstWords, classDateFirst},
		{dateWords, classDate},
		{[]string{"byline", "author", "autor"}, classByline},
		{titleWords, classTitle},
		{notBylineWords, classNotByline},
	} {
		for _, w := range l.words {
			if _, ok := kinds[w]; !ok {
				order = append(order, w)
			}
			kinds[w] |= l.kind
		}
	}
	for _, w := range order {
		idx[w[0]] = append(idx[w[0]], classWord{w, kinds[w]})
	}
	return idx
}()

// authorPaths are the path segments under which sites keep their
// authors' pages.
var authorPaths = []string{"/author/", "/authors/", "/autor/", "/autoren/", "/auteur/", "/writers/", "/contributors/", "/contributor/"}

// isAuthorPage reports whether href links to an author's page.
func isAuthorPage(href string) bool {
	if len(href) < 9 {
		return false
	}
	h := href
	if !isASCII(h) {
		h = strings.ToLower(h)
	}
	// Every path starts with "/", and some text after it must follow.
	for i := strings.IndexByte(h, '/'); i >= 0; {
		for _, p := range authorPaths {
			if len(h) > i+len(p) && lowerASCIIPrefix(h[i:], p) {
				return true
			}
		}
		j := strings.IndexByte(h[i+1:], '/')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// lowerASCIIPrefix reports whether the ASCII s, lower-cased, starts with
// the lower-case prefix.
func lowerASCIIPrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// near reports whether the walk is within nearHeadline bytes of text
// after the start of the first <h1>.
func (p *page) near() bool {
	return p.h1Seen && len(p.textBuf)-p.h1Pos < nearHeadline
}

func hasAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// addItemprop records microdata dates on elements other than <meta> and
// <time> (those are handled as meta tags and time elements).
func (p *page) addItemprop(n *html.Node, ip string, discarded bool) {
	if n.DataAtom == atom.Time || len(p.times) >= maxTimeElems {
		return
	}
	l := strings.ToLower(ip)
	pub := strings.Contains(l, "datepublished") || strings.Contains(l, "datecreated")
	mod := strings.Contains(l, "datemodified")
	if !pub && !mod {
		return
	}
	v := strings.TrimSpace(attr(n, "datetime"))
	if v == "" {
		v = strings.TrimSpace(attr(n, "content"))
	}
	p.times = append(p.times, timeElem{value: v, text: n, published: pub, modified: mod, discarded: discarded, afterH1: p.h1Seen, near: p.near(), inLink: p.linkDepth > 0})
}

func (p *page) addMeta(n *html.Node) {
	if len(p.metas) >= maxMetas {
		return
	}
	content, ok := hasAttr(n, "content")
	if !ok {
		if v := attr(n, "datetime"); v != "" {
			content = v
		} else if v := attr(n, "value"); v != "" {
			content = v
		}
	}
	content = strings.TrimSpace(content)
	if content == "" {
		return
	}
	for _, k := range []string{"property", "name", "itemprop", "http-equiv"} {
		if v := strings.TrimSpace(attr(n, k)); v != "" {
			for _, key := range strings.Fields(strings.ToLower(v)) {
				p.metas = append(p.metas, metaTag{key: key, content: content})
			}
			return
		}
	}
	if v, ok := hasAttr(n, "pubdate"); ok && (v == "" || strings.EqualFold(v, "pubdate")) {
		p.metas = append(p.metas, metaTag{key: "pubdate", content: content})
	}
}

// meta returns the first meta tag content with one of keys, in the order
// of keys.
func (p *page) meta(keys ...string) string {
	for _, k := range keys {
		for _, m := range p.metas {
			if m.key == k {
				return m.content
			}
		}
	}
	return ""
}

// metaAll returns all contents of meta tags named key.
func (p *page) metaAll(key string) []string {
	var out []string
	for _, m := range p.metas {
		if m.key == key {
			out = append(out, m.content)
		}
	}
	return out
}

// textOf returns n's text with white space collapsed, reading at most
// limit bytes of it.
func textOf(n *html.Node, limit int) string {
	var b []byte
	boundary := false
	var rec func(*html.Node, int)
	rec = func(n *html.Node, depth int) {
		if len(b) >= limit || depth > 100 {
			return
		}
		switch n.Type {
		case html.TextNode:
			b = appendText(b, n.Data, boundary)
			if n.Data != "" {
				boundary = false
			}
			return
		case html.ElementNode:
			if softBoundary(n.DataAtom) {
				boundary = true
			}
			if skipText(n.DataAtom) {
				return
			}
			if isBlock(n.DataAtom) {
				b = append(b, ' ')
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c, depth+1)
		}
		if n.Type == html.ElementNode && softBoundary(n.DataAtom) {
			boundary = true
		}
	}
	rec(n, 0)
	if len(b) > limit {
		b = b[:limit]
	}
	return collapse(string(b))
}

// collapse trims s and collapses its runs of white space to one space.
func collapse(s string) string {
	if collapsed(s) {
		return s // no copy of what is collapsed already
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\u00a0", " ")), " ")
}

// collapsed reports whether collapse would return s as it is: no white
// space but single spaces between other characters.
func collapsed(s string) bool {
	space := true // no space at the start
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch c {
			case ' ':
				if space {
					return false
				}
				space = true
				continue
			case '\t', '\n', '\v', '\f', '\r':
				return false
			}
			space = false
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return false // U+00A0 included
		}
		i += size
		space = false
	}
	return !space || s == ""
}

// softBoundary reports whether the start and end of an element of kind a
// part the text around them where gluing would join two tokens (see
// softBreak). Sub- and superscripts belong to the word they follow
// ("CO2", "22nd"), and <wbr> only allows a line break inside a word.
func softBoundary(a atom.Atom) bool {
	switch a {
	case atom.Sub, atom.Sup, atom.Wbr:
		return false
	}
	return true
}

// appendText appends s to b. After an element boundary it first writes a
// space when the last rune of b and the first of s would glue two tokens
// into one.
func appendText(b []byte, s string, boundary bool) []byte {
	if boundary && len(b) > 0 && s != "" {
		last, _ := utf8.DecodeLastRune(b)
		next, _ := utf8.DecodeRuneInString(s)
		if softBreak(last, next) {
			b = append(b, ' ')
		}
	}
	return append(b, s...)
}

// softBreak reports whether last and next, the runes either side of an
// element boundary, belong to two tokens that a reader of the page's
// metadata must keep apart, although a browser draws adjacent inline boxes
// without a space: digits on both sides ("2025" then "5 min read"), a
// letter then a digit ("Health" then "12/03/2025"), a digit then an
// upper-case letter ("2025" then "Updated"), or a lower-case letter then
// an upper-case one ("Health" then "DECEMBER 22"). A digit followed by a
// lower-case letter ("22" then "nd", "5" then "min") and a capital
// followed by the rest of its word (a drop cap) stay joined.
func softBreak(last, next rune) bool {
	switch {
	case isDigit(last):
		return isDigit(next) || unicode.IsUpper(next)
	case unicode.IsLetter(last):
		return isDigit(next) || (unicode.IsLower(last) && unicode.IsUpper(next))
	}
	return false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }
