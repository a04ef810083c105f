package process

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/newsflow/newsflow/ingest"
	"github.com/newsflow/newsflow/process/content"
	"github.com/newsflow/newsflow/process/metadata"
)

// ErrNoContent is returned when a page has no article text and its feed item
// has none either.
var ErrNoContent = errors.New("no article text found")

// PermanentError marks an error that retrying cannot fix: the message that
// caused it is parked, not redelivered.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports true: see PermanentError.
func (e *PermanentError) Permanent() bool { return true }

// TemporaryError marks an error that a later try may not have: the message
// that caused it is retried, never parked.
type TemporaryError struct{ Err error }

func (e *TemporaryError) Error() string { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary reports true: see TemporaryError.
func (e *TemporaryError) Temporary() bool { return true }

// DeferredError marks a message this worker cannot handle yet (a raw
// article of a newer schema, written by an upgraded fetcher): it waits for
// an upgraded processor, is never parked for it, and does not hold back
// the messages behind it.
type DeferredError struct{ Err error }

func (e *DeferredError) Error() string { return e.Err.Error() }
func (e *DeferredError) Unwrap() error { return e.Err }

// Deferred reports true: see DeferredError.
func (e *DeferredError) Deferred() bool { return true }

// Page is one HTML page to extract.
type Page struct {
	// URL is where the page came from; it resolves relative links.
	URL string
	// Body is the page as served; ContentType the response's Content-Type
	// header, if any (it may name the charset).
	Body        []byte
	ContentType string
	FetchedAt   time.Time
	// Item is the feed item that pointed to the page, if any.
	Item *ingest.FeedItem
}

// where names the page in an error, if it has a URL.
func (p Page) where() string {
	if p.URL == "" {
		return ""
	}
	return " " + p.URL
}

// Extract turns one page into an Article. It fails when the page is not
// HTML (an error wrapping ErrNotHTML), cannot be parsed, or has no text at
// all; in the latter case it still returns the record with the metadata it
// found, and an error wrapping ErrNoContent.
func Extract(p Page) (Article, error) {
	return ExtractContext(context.Background(), p)
}

// ExtractContext is Extract that gives up once ctx is done, returning an
// error that wraps ctx's.
func ExtractContext(ctx context.Context, p Page) (Article, error) {
	if err := ctx.Err(); err != nil {
		return Article{}, fmt.Errorf("extract%s: %w", p.where(), err)
	}
	if err := checkHTML(p.Body, p.ContentType); err != nil {
		return Article{}, fmt.Errorf("page%s: %w", p.where(), err)
	}
	// The page is decoded as it is parsed, and its bytes are let go once
	// the tree is built: a big page is not held twice during extraction.
	doc, err := parseDocument(p.Body, p.ContentType)
	p.Body = nil
	if err != nil {
		return Article{}, fmt.Errorf("parse%s: %w", p.where(), err)
	}
	var base *url.URL
	if p.URL != "" {
		if base, err = url.Parse(p.URL); err != nil {
			return Article{}, fmt.Errorf("page url %q: %w", p.URL, err)
		}
	}
	h := metadata.Hints{URL: base}
	if p.Item != nil {
		h.FeedPublished, h.FeedUpdated = p.Item.Published, p.Item.Updated
	}
	meta := metadata.Extract(doc, h)
	if base == nil && meta.Canonical != "" {
		base, _ = url.Parse(meta.Canonical)
	}
	body, err := content.Extract(ctx, doc, content.Options{BaseURL: base, Title: meta.Title, Description: meta.Description})
	if err != nil {
		return Article{}, fmt.Errorf("extract%s: %w", p.where(), err)
	}

	a := Article{
		SchemaVersion:    ArticleSchemaVersion,
		URL:              meta.Canonical,
		Link:             p.URL,
		Item:             p.Item,
		Title:            meta.Title,
		Authors:          nonNil(meta.Authors),
		SiteName:         meta.SiteName,
		Section:          meta.Section,
		Description:      meta.Description,
		Image:            meta.Image,
		Tags:             nonNil(meta.Tags),
		HTML:             body.HTML,
		FetchedAt:        p.FetchedAt.UTC(),
		ExtractorVersion: ExtractorVersion,
	}
	if a.URL == "" {
		a.URL = p.URL
	}
	if len(body.Paragraphs) == 0 && p.Item != nil {
		body = itemBody(p.Item)
	}
	paras := body.Paragraphs
	if p.Item != nil {
		fillFromItem(&a, p.Item)
	}
	if !meta.Published.IsZero() {
		a.Published = meta.Published.UTC()
		a.PublishedLocal = meta.Published
	}
	if !meta.Modified.IsZero() {
		a.Modified = meta.Modified.UTC()
	}
	a.Text = body.Text()
	a.Language = metadata.Language(meta.Language, a.Text)
	if len(paras) > 0 {
		if d, ok := metadata.ParseDateline(paras[0]); ok {
			a.Dateline = &Dateline{Place: d.Place, Sources: d.Sources}
			if !d.Date.IsZero() {
				a.Dateline.Date = d.Date.Format(time.DateOnly)
			}
		}
	}
	a.makeSafe(base)
	if a.URL == "" {
		a.URL = a.Link
	}
	a.WordCount = wordCount(a.Text)
	a.AddAlias(p.URL)
	a.AddAlias(meta.AMP)
	if p.Item != nil {
		a.AddAlias(p.Item.Link)
		a.AddAlias(p.Item.GUID)
	}
	if a.URL != "" {
		a.ID = ArticleID(a.URL)
	}
	if a.Text != "" {
		a.ContentHash = contentHash(a.Text)
		a.Fingerprint = fmt.Sprintf("%016x", SimHash(a.Text))
	}
	if a.Text == "" {
		return a, fmt.Errorf("page%s: %w", p.where(), ErrNoContent)
	}
	return a, nil
}

// contentHash is the hex of the first 16 bytes of the SHA-256 of text,
// hashed through a small buffer rather than a copy of a long text.
func contentHash(text string) string {
	h := sha256.New()
	var buf [32 << 10]byte
	for text != "" {
		n := copy(buf[:], text)
		h.Write(buf[:n])
		text = text[n:]
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// AddAlias adds the address u, without tracking parameters or fragment
// (see metadata.TrimURL), to the article's Aliases, unless it is not an
// http(s) URL, is the article's URL or is there already.
func (a *Article) AddAlias(u string) {
	c := metadata.TrimURL(u)
	if c == "" || c == a.URL || slices.Contains(a.Aliases, c) {
		return
	}
	a.Aliases = append(a.Aliases, c)
}

// ArticleID is the stable id of the article at canonical URL u. A page
// extracted without any URL has no id.
func ArticleID(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:12])
}

func fillFromItem(a *Article, it *ingest.FeedItem) {
	if a.Title == "" {
		a.Title = plainText(it.Title, false) // a feed's title may hold markup
	}
	if len(a.Authors) == 0 && len(it.Authors) > 0 {
		a.Authors = it.Authors
	}
	if a.Description == "" {
		a.Description = strings.TrimSpace(it.Description)
	}
	if a.Image == "" {
		a.Image = it.Image
	}
	if len(a.Tags) == 0 && len(it.Categories) > 0 {
		a.Tags = it.Categories
	}
}

// itemBody is the feed item's own content, for pages whose HTML has no
// findable body (or is not HTML at all).
func itemBody(it *ingest.FeedItem) content.Result {
	src := it.Content
	if src == "" {
		src = it.Description
	}
	if strings.TrimSpace(src) == "" {
		return content.Result{}
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(src))
	if err != nil {
		return content.Result{}
	}
	// The item's content is small and already in hand: no deadline.
	r, _ := content.Extract(context.Background(), doc, content.Options{})
	return r
}

// wordCount counts the runs of letters and digits in s.
func wordCount(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); {
		var w bool
		if c := s[i]; c < utf8.RuneSelf {
			w = asciiWord[c]
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			w = unicode.IsLetter(r) || unicode.IsNumber(r)
			i += size
		}
		if w && !in {
			n++
		}
		in = w
	}
	return n
}

// asciiWord marks the ASCII letters and digits.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
