package process

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExtractRefusesWhatIsNotHTML runs Extract on the made-up files of
// testdata/sniff with the Content-Type a server might send with them.
func TestExtractRefusesWhatIsNotHTML(t *testing.T) {
	const story = "The keeper of the north point light climbed its ninety steps"
	tests := []struct {
		file, ctype string
		notHTML     string // the type the error names; "" when the page passes
	}{
		{"pixel.png", "image/png", "image/png"},
		{"pixel.png", "text/html", "image/png"},
		{"photo.jpg", "", "image/jpeg"},
		{"anim.gif", "text/html; charset=utf-8", "image/gif"},
		{"image.webp", "application/octet-stream", "image/webp"},
		{"story.html.gz", "text/html", "application/x-gzip"},
		{"bundle.zip", "application/zip", "application/zip"},
		{"report.pdf", "text/html", "application/pdf"},
		{"junk-first.pdf", "", "application/pdf"},
		{"program.bin", "application/x-executable", "application/x-executable"},
		{"program.bin", "text/html", "application/octet-stream"},
		{"data.json", "application/json", "application/json"},
		{"plain.txt", "image/png", "image/png"},
		// Pages that pass: HTML under a wrong or missing type, UTF-16
		// without a byte-order mark.
		{"meta-first.html", "text/plain", ""},
		{"meta-first.html", "application/octet-stream", ""},
		{"meta-first.html", "", ""},
		{"utf16le.html", "text/html", ""},
		{"utf16be.html", "", ""},
		{"utf16le.html", "text/html; charset=utf-8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file+" as "+tt.ctype, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "sniff", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			a, err := Extract(Page{URL: "https://coast.example/keeper", Body: body, ContentType: tt.ctype})
			if tt.notHTML != "" {
				if !errors.Is(err, ErrNotHTML) || !strings.HasSuffix(err.Error(), "not an HTML page: "+tt.notHTML) {
					t.Fatalf("Extract = %v, want an error ending %q", err, "not an HTML page: "+tt.notHTML)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(a.Text, story) || strings.Contains(a.Text, "<p>") || strings.ContainsRune(a.Text, 0) {
				t.Errorf("text = %q, want the story as text", a.Text)
			}
			if a.Title != "Lighthouse keeper retires after forty winters" {
				t.Errorf("title = %q", a.Title)
			}
		})
	}
}

func TestUTF16WithoutBOM(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"le", "<\x00p\x00>\x00h\x00i\x00<\x00/\x00p\x00>\x00", "utf-16le"},
		{"be", "\x00 \x00<\x00p\x00>\x00h\x00i\x00<\x00/\x00p\x00>", "utf-16be"},
		{"le with a cyrillic title", "<\x00t\x00>\x00\x1f\x04@\x04>\x04<\x00/\x00t\x00>\x00<\x00p\x00>\x00", "utf-16le"},
		{"ascii", "<p>hello there</p>", ""},
		{"with a bom (charset's business)", "\xff\xfe<\x00p\x00>\x00h\x00i\x00", ""},
		{"binary with NULs", "\x01\x00\x02\x00\x03\x00\x04\x00\x05\x00", ""},
		{"too short", "<\x00p\x00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := utf16WithoutBOM([]byte(tt.body)); got != tt.want {
				t.Errorf("utf16WithoutBOM = %q, want %q", got, tt.want)
			}
		})
	}
}
