package process

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

var xmlEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._:-]+)["']`)

// DecodeUTF8 returns body as UTF-8 (body itself when it is valid UTF-8
// already). The charset is, in order: a byte-order mark, UTF-16 told by the
// pattern of NUL bytes of ASCII markup (a page without a byte-order mark),
// the one the Content-Type names, an XML prolog's encoding, a <meta>
// declaration in the first 1024 bytes, and a guess from the bytes (UTF-8 if
// they are valid UTF-8, else windows-1252), as the HTML standard
// prescribes (it reads no XML prolog; XHTML pages served as HTML declare
// their charset there). Bytes that are not valid in the charset become
// U+FFFD.
//
// UTF-8 text that was once read as ISO-8859-1 and written out as UTF-8
// again ("Investorâ\u0080\u0099s" for "Investor’s") is read back: such a
// page holds C1 control characters, which no text has.
func DecodeUTF8(body []byte, contentType string) ([]byte, error) {
	enc, name := decoding(body, contentType)
	if enc == nil {
		if hasC1(body) {
			return undoubleUTF8(body), nil
		}
		return body, nil
	}
	out, _, err := transform.Bytes(enc.NewDecoder(), body)
	if err != nil {
		return nil, fmt.Errorf("charset %s: %w", name, err)
	}
	return out, nil
}

// utf8Reader reads body as UTF-8, as DecodeUTF8 decodes it, without
// holding a decoded copy of a page in another charset.
func utf8Reader(body []byte, contentType string) io.Reader {
	page, r := utf8Source(body, contentType)
	if r == nil {
		r = bytes.NewReader(page)
	}
	return r
}

// utf8Source returns body as UTF-8, as DecodeUTF8 decodes it: as bytes
// when that takes no decoding (body itself, or a copy with its doubly
// encoded characters undone), else as a reader that decodes it.
func utf8Source(body []byte, contentType string) ([]byte, io.Reader) {
	enc, _ := decoding(body, contentType)
	if enc == nil {
		if hasC1(body) {
			return undoubleUTF8(body), nil
		}
		return body, nil
	}
	return nil, transform.NewReader(bytes.NewReader(body), enc.NewDecoder())
}

// decoding returns body's charset and its name, or a nil encoding when
// body is valid UTF-8 as it is.
func decoding(body []byte, contentType string) (encoding.Encoding, string) {
	if enc, name := utf16WithoutBOM(body); enc != nil {
		return enc, name
	}
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
			return nil, "utf-8"
		}
	}
	if name == "utf-8" || enc == encoding.Nop {
		if utf8.Valid(body) {
			return nil, "utf-8"
		}
		// The UTF-8 decoder turns invalid bytes into U+FFFD.
		return unicode.UTF8, "utf-8"
	}
	return enc, name
}

// utf16WithoutBOM recognises UTF-16 that has no byte-order mark by its
// first bytes: markup is mostly ASCII, which UTF-16LE writes as a byte and
// a NUL and UTF-16BE as a NUL and a byte, and a page begins with '<' (after
// spaces). It returns nil for anything else, a BOM included (charset's
// business).
func utf16WithoutBOM(body []byte) (encoding.Encoding, string) {
	head := body[:min(len(body), 512)&^1]
	pairs := len(head) / 2
	if pairs < 4 || bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) {
		return nil, ""
	}
	var le, be int
	for i := 0; i < len(head); i += 2 {
		switch {
		case head[i] != 0 && head[i+1] == 0:
			le++
		case head[i] == 0 && head[i+1] != 0:
			be++
		}
	}
	// The first character that is not a space must be '<'.
	first := func(lo int) bool {
		for i := 0; i < len(head); i += 2 {
			c, hi := head[i+lo], head[i+1-lo]
			if hi != 0 {
				return false
			}
			switch c {
			case ' ', '\t', '\r', '\n':
				continue
			}
			return c == '<'
		}
		return false
	}
	switch {
	case le*10 >= pairs*7 && first(0):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le"
	case be*10 >= pairs*7 && first(1):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be"
	}
	return nil, ""
}

// hasC1 reports whether the UTF-8 body holds a C1 control character
// (U+0080 to U+009F). Text never uses them; UTF-8 text read as ISO-8859-1
// and written out as UTF-8 again has one in almost every non-ASCII
// character (’, “, –, é after a capital...).
func hasC1(body []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(body[i:], 0xc2)
		if j < 0 || i+j+1 >= len(body) {
			return false
		}
		i += j + 1
		if body[i] >= 0x80 && body[i] <= 0x9f {
			return true
		}
	}
}

// undoubleUTF8 undoes one round of ISO-8859-1 to UTF-8 on valid UTF-8
// body: each run of characters U+0080 to U+00FF is taken as the bytes
// they number, and where those bytes spell a UTF-8 sequence it replaces
// them; other characters are kept as they are.
func undoubleUTF8(body []byte) []byte {
	out := make([]byte, 0, len(body))
	var run []byte // the bytes numbered by the current run of characters
	flush := func() {
		for k := 0; k < len(run); {
			if r, size := utf8.DecodeRune(run[k:]); r != utf8.RuneError && size > 1 {
				out = append(out, run[k:k+size]...)
				k += size
				continue
			}
			out = utf8.AppendRune(out, rune(run[k]))
			k++
		}
		run = run[:0]
	}
	for i := 0; i < len(body); {
		if body[i] < utf8.RuneSelf {
			if len(run) > 0 {
				flush()
			}
			out = append(out, body[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(body[i:])
		if r >= 0x80 && r <= 0xff {
			run = append(run, byte(r))
		} else {
			if len(run) > 0 {
				flush()
			}
			out = append(out, body[i:i+size]...)
		}
		i += size
	}
	flush()
	return out
}
