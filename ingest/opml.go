package ingest

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// opmlDoc is the OPML 2.0 document WriteOPML writes.
type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Created string        `xml:"head>dateCreated,omitempty"`
	Outline []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Type   string `xml:"type,attr"`
	Text   string `xml:"text,attr"`
	Title  string `xml:"title,attr,omitempty"`
	XMLURL string `xml:"xmlUrl,attr"`
}

// WriteOPML writes feeds as an OPML 2.0 subscription list, which
// ReadFeedList (and other feed readers) read back. A feed with no title is
// named by its URL.
func WriteOPML(w io.Writer, title string, created time.Time, feeds []Feed) error {
	doc := opmlDoc{Version: "2.0", Title: title}
	if !created.IsZero() {
		doc.Created = created.UTC().Format(time.RFC1123Z)
	}
	for _, f := range feeds {
		text := f.Title
		if text == "" {
			text = f.URL
		}
		doc.Outline = append(doc.Outline, opmlOutline{Type: "rss", Text: text, Title: f.Title, XMLURL: f.URL})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write OPML: %w", err)
	}
	return nil
}
