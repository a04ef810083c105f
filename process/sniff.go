package process

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// ErrNotHTML is wrapped by the error for a page that is not HTML: an
// image, an archive, a PDF, other binary data, or text served as a type
// that is not a page (JSON, CSS, a feed...). The error names the type, as
// in "not an HTML page: image/png".
var ErrNotHTML = errors.New("not an HTML page")

// checkHTML returns an error wrapping ErrNotHTML when body, served with
// contentType, is not an HTML page. The bytes decide first: bytes that
// sniff as HTML pass whatever the server said, binary bytes are refused
// whatever it said. Text that does not sniff as HTML (many pages do not
// begin with a tag the sniffer knows) passes unless the server named a type
// that is not a page: HTML served as text/plain or octet-stream passes.
func checkHTML(body []byte, contentType string) error {
	declared, _, _ := mime.ParseMediaType(contentType)
	if enc, _ := utf16WithoutBOM(body); enc != nil {
		return refuseDeclared(declared)
	}
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(body))
	head := body[:min(len(body), 1024)]
	switch {
	case sniffed == "text/html":
		return nil
	case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\x00"), []byte("%PDF-")):
		// PDF readers accept a header after some junk; the sniffer only
		// looks at the first byte.
		return fmt.Errorf("%w: application/pdf", ErrNotHTML)
	case sniffed == "text/plain" || sniffed == "text/xml":
		return refuseDeclared(declared)
	case sniffed == "application/octet-stream" && declared != "" && !pageType(declared):
		return fmt.Errorf("%w: %s", ErrNotHTML, declared)
	}
	return fmt.Errorf("%w: %s", ErrNotHTML, sniffed)
}

// refuseDeclared refuses text served as a type that is not a page.
func refuseDeclared(declared string) error {
	if declared == "" || pageType(declared) {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNotHTML, declared)
}

// pageType reports whether a server that says media type t may be serving
// an HTML page: HTML and XHTML, and the types of servers that do not know
// (plain text, XML, octet-stream, unknown).
func pageType(t string) bool {
	switch t {
	case "text/plain", "text/xml", "application/xml":
		return true
	}
	return strings.Contains(t, "html") || strings.Contains(t, "octet-stream") || strings.Contains(t, "unknown")
}
