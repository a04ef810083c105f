package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// ErrNewerRawSchema is wrapped by DecodeRaw's error for a message written
// by a newer ingest than this build: it is not bad, only not readable yet,
// and must wait for an upgraded processor rather than be parked.
var ErrNewerRawSchema = errors.New("raw article schema_version is newer than this build reads")

// fetchErrorHeaderV1 is the header key in which schema 1 carried the fetch
// error (in the origin's own header map, which let a site park its pages).
const fetchErrorHeaderV1 = "Newsflow-Fetch-Error"

// rawHeader is the first line of a schema 2 message: the article without
// its body, and the body's length so that a cut message is told apart.
type rawHeader struct {
	*RawArticle
	BodyBytes int `json:"body_bytes"`
}

// EncodeRaw returns the payload of a news.raw message for a, in the
// current schema (RawSchemaVersion, whatever a.SchemaVersion says): one
// line of JSON with every field but the body, a newline, then the body's
// bytes as they are. `nats stream view` shows the header and the page.
func EncodeRaw(a RawArticle) ([]byte, error) {
	body := a.Body
	a.Body = nil
	a.SchemaVersion = RawSchemaVersion
	var out bytes.Buffer
	out.Grow(2048 + len(body))
	enc := json.NewEncoder(&out) // one line, and the newline after it
	enc.SetEscapeHTML(false)     // URLs stay readable
	if err := enc.Encode(rawHeader{RawArticle: &a, BodyBytes: len(body)}); err != nil {
		return nil, fmt.Errorf("encode raw article %s: %w", a.ID, err)
	}
	out.Write(body)
	return out.Bytes(), nil
}

// DecodeRaw parses the payload of a news.raw message of any schema up to
// RawSchemaVersion and returns it in the current shape. The Body of a
// schema 2 message is a slice of data, not a copy: data must not change
// while the article is in use. A message of a newer schema gives an error
// wrapping ErrNewerRawSchema; anything else that cannot be read gives an
// error that says what is wrong with it.
func DecodeRaw(data []byte) (RawArticle, error) {
	head, body, split := bytes.Cut(data, []byte{'\n'})
	var a RawArticle
	h := rawHeader{RawArticle: &a, BodyBytes: -1}
	if err := json.Unmarshal(head, &h); err != nil {
		if !split {
			return RawArticle{}, fmt.Errorf("decode raw article: %w", err)
		}
		// Schema 1 written by hand may span lines.
		a, h.BodyBytes, split = RawArticle{}, -1, false
		if err2 := json.Unmarshal(data, &h); err2 != nil {
			return RawArticle{}, fmt.Errorf("decode raw article: header line: %w", err)
		}
	}
	switch {
	case a.SchemaVersion > RawSchemaVersion:
		return RawArticle{}, fmt.Errorf("raw article %s: schema_version %d, this build reads up to %d: %w", a.ID, a.SchemaVersion, RawSchemaVersion, ErrNewerRawSchema)
	case a.SchemaVersion == 2:
		if !split || h.BodyBytes < 0 {
			return RawArticle{}, fmt.Errorf("raw article %s: schema_version 2 without a body line and body_bytes", a.ID)
		}
		if len(body) != h.BodyBytes {
			return RawArticle{}, fmt.Errorf("raw article %s: body is %d bytes, the header says %d (cut or padded message)", a.ID, len(body), h.BodyBytes)
		}
		a.Body = body
	case a.SchemaVersion == 1:
		if split && len(bytes.TrimSpace(body)) > 0 {
			return RawArticle{}, fmt.Errorf("raw article %s: schema_version 1 with data after its JSON object", a.ID)
		}
		upgradeV1(&a)
	default:
		return RawArticle{}, fmt.Errorf("decode raw article %q: schema_version %d is not a version (want 1 to %d)", a.ID, a.SchemaVersion, RawSchemaVersion)
	}
	a.SchemaVersion = RawSchemaVersion
	if len(a.Body) == 0 {
		a.Body = nil
	}
	return a, nil
}

// upgradeV1 moves what schema 1 kept in the header map to its own field.
// Schema 1 cannot tell a fetch error from a site's header of the same
// name, so its messages keep the meaning they were written with.
func upgradeV1(a *RawArticle) {
	h := http.Header(a.Header)
	if vs := h.Values(fetchErrorHeaderV1); len(vs) > 0 {
		a.FetchError = vs[0]
		h = h.Clone()
		h.Del(fetchErrorHeaderV1)
		a.Header = h
		if len(h) == 0 {
			a.Header = nil
		}
	}
}
