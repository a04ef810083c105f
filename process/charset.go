package process

import (
	"bytes"
	"fmt"
	"regexp"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"
)

var xmlEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._:-]+)["']`)

// DecodeUTF8 returns body as UTF-8. The charset is, in order: a byte-order
// mark, the one the Content-Type names, an XML prolog's encoding, a <meta>
// declaration in the first 1024 bytes, and a guess from the bytes (UTF-8 if
// they are valid UTF-8, else windows-1252), as the HTML standard
// prescribes (it reads no XML prolog; XHTML pages served as HTML declare
// their charset there).
func DecodeUTF8(body []byte, contentType string) ([]byte, error) {
	enc, name, certain := charset.DetermineEncoding(body, contentType)
	if !certain {
		if m := xmlEncoding.FindSubmatch(body[:min(len(body), 200)]); m != nil {
			if e, err := htmlindex.Get(string(m[1])); err == nil {
				enc, name = e, string(m[1])
				if n, _ := htmlindex.Name(e); n == "utf-8" || n == "utf-16le" || n == "utf-16be" {
					// A prolog readable as ASCII is not UTF-16, whatever
					// it says.
					enc, name = encoding.Nop, "utf-8"
				}
			}
		} else if name == "windows-1252" && utf8.Valid(body) {
			// DetermineEncoding falls back to windows-1252 when nothing
			// is declared; valid UTF-8 is far more likely on today's web.
			return body, nil
		}
	}
	if name == "utf-8" || enc == encoding.Nop {
		if utf8.Valid(body) {
			return body, nil
		}
		return bytes.ToValidUTF8(body, []byte("\uFFFD")), nil
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), body)
	if err != nil {
		return nil, fmt.Errorf("charset %s: %w", name, err)
	}
	return out, nil
}
