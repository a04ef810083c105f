package metadata

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestSoftBreak(t *testing.T) {
	tests := []struct {
		last, next rune
		want       bool
	}{
		{'5', '5', true},  // "2025" then "5 mins"
		{'h', '1', true},  // "Health" then "12/03/2025"
		{'H', '2', true},  // "UPDATED" then "2 days ago"
		{'5', 'U', true},  // "2025" then "Updated"
		{'h', 'D', true},  // "Health" then "DECEMBER 22"
		{'é', 'M', true},  // non-ASCII lower case too
		{'2', 'n', false}, // "22" then "nd"
		{'5', 'm', false}, // "5" then "min"
		{'T', 'h', false}, // a drop cap: "T" then "he"
		{'N', 'E', false}, // "N" then "EWS": one word in capitals
		{'h', 'e', false}, // "Wash" then "ington"
		{'.', 'M', false}, // punctuation already parts tokens
		{'5', ' ', false},
		{'h', '(', false},
	}
	for _, tt := range tests {
		if got := softBreak(tt.last, tt.next); got != tt.want {
			t.Errorf("softBreak(%q, %q) = %v, want %v", tt.last, tt.next, got, tt.want)
		}
	}
}

// TestWalkSoftSeparators checks where the page's text and textOf part
// adjacent inline elements.
func TestWalkSoftSeparators(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"date then reading time", `<span>Mar 27, 2025</span><span>5 mins</span>`, "Mar 27, 2025 5 mins"},
		{"section then date", `<span>Mental Health</span><span>DECEMBER 22, 2022</span>`, "Mental Health DECEMBER 22, 2022"},
		{"label then numeric date", `<b>Published</b>12.03.2025`, "Published 12.03.2025"},
		{"date then label", `<span>2025-11-03</span><em>Updated</em>`, "2025-11-03 Updated"},
		{"name then date", `<a href="/u/ann">Ann Lee</a><span>Mar 5, 2025</span>`, "Ann Lee Mar 5, 2025"},
		{"ordinal superscript", `March 22<sup>nd</sup>, 2025`, "March 22nd, 2025"},
		{"chemical subscript", `CO<sub>2</sub> levels`, "CO2 levels"},
		{"word broken by markup", `Wash<em>ington</em> and <span>N</span>EWS`, "Washington and NEWS"},
		{"drop cap", `<span class="dropcap">T</span>he river`, "The river"},
		{"number then unit", `<span>5</span>min read`, "5min read"},
		{"spaces kept", `<span>Mar 27, 2025 </span> <span>5 mins</span>`, "Mar 27, 2025 5 mins"},
		{"empty element between", `<span>2025</span><i></i><span>5 mins</span>`, "2025 5 mins"},
		{"comment is no boundary", `20<!-- x -->25`, "2025"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := html.Parse(strings.NewReader(`<html><body><p id="x">` + tt.body + `</p></body></html>`))
			if err != nil {
				t.Fatal(err)
			}
			var p page
			p.walk(doc)
			if got := collapse(p.text); got != tt.want {
				t.Errorf("page text = %q, want %q", got, tt.want)
			}
			para := findElem(doc, "p")
			if got := textOf(para, 1000); got != tt.want {
				t.Errorf("textOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func findElem(n *html.Node, tag string) *html.Node {
	if n.Type == html.ElementNode && n.Data == tag {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findElem(c, tag); f != nil {
			return f
		}
	}
	return nil
}
