package process

import (
	"bytes"
	"io"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseDocument parses a page, decoding it to UTF-8 as it goes (see
// utf8Reader); a page in UTF-8 is parsed without the text of its scripts
// and style sheets and the attributes extraction never reads (see
// dropUnread). x/net/html rejects a page nested
// deeper than 512 elements, and real pages do that; such a page (or one
// that fails to parse for another reason) is parsed again with its nesting
// flattened (see flattenDeep), so that its text is kept. The first error is
// returned when the flattened page fails too.
func parseDocument(body []byte, contentType string) (*goquery.Document, error) {
	page, r := utf8Source(body, contentType)
	if page != nil {
		lean := dropUnread(page)
		defer releaseText(lean, page)
		page, r = lean, bytes.NewReader(lean)
	}
	doc, err := goquery.NewDocumentFromReader(r)
	if err == nil {
		return doc, nil
	}
	if page == nil {
		var derr error
		if page, derr = io.ReadAll(utf8Reader(body, contentType)); derr != nil {
			return nil, err
		}
	}
	flat, ferr := goquery.NewDocumentFromReader(bytes.NewReader(flattenDeep(page)))
	if ferr != nil {
		return nil, err
	}
	return flat, nil
}

// Past wrapperDepth open elements, flattenDeep drops the tags of wrapper
// elements (div, span, section...) and keeps those of text blocks
// (paragraphs, headings, list items, table cells); past maxDepth it drops
// every element's tags. Text is always kept.
const (
	wrapperDepth = 192
	maxDepth     = 384
)

// maxEndSearch bounds how far down the open elements an end tag's match is
// looked for, so that a page of stray end tags costs linear time.
const maxEndSearch = 512

// flattenDeep rewrites an HTML page so that no element is nested deeper
// than maxDepth: it tokenizes the page, tracks the open elements as
// written (closing a paragraph or list item that a sibling implicitly
// closes), and leaves out the start and end tags of elements nested too
// deep, keeping their text and the tags of text blocks for as long as it
// can. Raw-text elements (script, style, title...) are always kept whole,
// so their content never turns into text.
func flattenDeep(body []byte) []byte {
	type open struct {
		name string
		kept bool
	}
	var (
		out   bytes.Buffer
		stack []open
		depth int // the open elements whose tags are kept
	)
	pop := func(i int) {
		for _, o := range stack[i:] {
			if o.kept {
				depth--
			}
		}
		stack = stack[:i]
	}
	out.Grow(len(body))
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		raw := z.Raw()
		if tt == html.ErrorToken {
			// io.EOF: reading from memory fails no other way. Raw holds
			// what an unfinished last token had read.
			out.Write(raw)
			return out.Bytes()
		}
		switch tt {
		case html.StartTagToken:
			start := len(out.Bytes())
			out.Write(raw) // before TagName, which lower-cases the buffer Raw points into
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if isVoid(a) {
				continue
			}
			if n := len(stack); n > 0 && stack[n-1].name == string(name) && closesSibling(a) {
				pop(n - 1)
			}
			kept := rawText(a) || depth < wrapperDepth || (depth < maxDepth && textBlock(a))
			if kept {
				depth++
			} else {
				out.Truncate(start)
			}
			stack = append(stack, open{name: string(name), kept: kept})
		case html.EndTagToken:
			start := len(out.Bytes())
			out.Write(raw)
			name, _ := z.TagName()
			for i := len(stack) - 1; i >= 0 && i >= len(stack)-maxEndSearch; i-- {
				if stack[i].name == string(name) {
					if !stack[i].kept {
						out.Truncate(start)
					}
					pop(i)
					break
				}
			}
		default:
			out.Write(raw)
		}
	}
}

// isVoid reports whether a is an element that has no end tag.
func isVoid(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input, atom.Keygen, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// closesSibling reports whether a start tag of a closes an open element
// of the same name (a new paragraph ends the one before it).
func closesSibling(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Li, atom.Dt, atom.Dd, atom.Option, atom.Tr, atom.Td, atom.Th:
		return true
	}
	return false
}

// rawText reports whether a's content is raw text that must stay inside
// its element.
func rawText(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Textarea, atom.Xmp, atom.Iframe, atom.Noembed, atom.Noframes, atom.Noscript, atom.Plaintext, atom.Template:
		return true
	}
	return false
}

// textBlock reports whether a is an element that holds a block of text.
func textBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Li, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd,
		atom.Blockquote, atom.Pre, atom.Table, atom.Tbody, atom.Thead, atom.Tr, atom.Td, atom.Th, atom.Figure, atom.Figcaption, atom.Article:
		return true
	}
	return false
}
