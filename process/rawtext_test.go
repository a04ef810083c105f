package process

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func TestDropUnread(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"script", `<p>a<script>var x = "<p>";</script>b`, `<p>a<script></script>b`},
		{"style", `<head><style type="text/css">p > a { color: red }</style></head>`, `<head><style type="text/css"></style></head>`},
		{"json-ld kept", `<script type="application/ld+json">{"a": 1}</script><script>x()</script>`,
			`<script type="application/ld+json">{"a": 1}</script><script></script>`},
		{"json-ld in any case", `<script type='Application/LD+JSON'>{}</script>`, `<script type='Application/LD+JSON'>{}</script>`},
		{"json-ld with a reference", `<script type="application/ld&#x2B;json">{}</script>`, `<script type="application/ld&#x2B;json">{}</script>`},
		{"streamed placement kept", `<script>$RC("B:0","S:0")</script>`, `<script>$RC("B:0","S:0")</script>`},
		{"quoted > in the start tag", `<script title="a>b">x</script>`, `<script title="a>b"></script>`},
		{"unread attributes", `<img src="a.jpg" srcset="a.jpg 1x, b.jpg 2x" loading=lazy width=10 data-src="c.jpg" data-id='7'>`,
			`<img src="a.jpg"    data-src="c.jpg" >`},
		{"attributes that hide kept", `<div style="display: none" aria-hidden="true" aria-label="Menu" onclick="go()" aria-controls=m>`,
			`<div style="display: none" aria-hidden="true"   aria-controls=m>`},
		{"a style that cannot hide", `<p style="color: red" class=a>x</p><p style="display:&#110;one">`, `<p  class=a>x</p><p style="display:&#110;one">`},
		{"names in any case", `<DIV DATA-X=1 Class=a ONLOAD=f()>`, `<DIV  Class=a >`},
		{"no space before", `<div title="a"data-x="1" data-y>`, `<div title="a"data-x="1" >`},
		{"empty value", `<div data-x= >`, `<div >`},
		{"self-closing kept", `<svg data-x="1"/><style>b</style>`, `<svg /><style></style>`},
		{"end tag in any case", `<SCRIPT>x</ScRiPt >y`, `<SCRIPT></ScRiPt >y`},
		{"not an end tag", `<script>a</scripts>b</script>c`, `<script></script>c`},
		{"escaped", `<script><!-- a </script> b`, `<script></script> b`},
		{"double escaped", `<script><!-- <script> </script> --></script>c`, `<script></script>c`},
		{"double escape left", `<script><!-- <script> </script> </script>d`, `<script></script>d`},
		{"unterminated", `<p>a<script>var x`, `<p>a<script>`},
		{"in a comment", `<!-- <script>x</script> -->`, `<!---->`},
		{"comment ends", `<!-- a ---><!-- b --!><!----><!--->c`, `<!----><!----!><!----><!--->c`},
		{"short comment", `<!--><script>x</script>`, `<!--><script></script>`},
		{"in an attribute", `<div title="<script>x</script>">`, `<div title="<script>x</script>">`},
		{"in a title", `<title><script>x</script></title>`, `<title><script>x</script></title>`},
		{"in a textarea", `<textarea><style>x</style></textarea>`, `<textarea><style>x</style></textarea>`},
		{"in noscript", `<noscript><style>x</style></noscript><style>y</style>`, `<noscript><style>x</style></noscript><style></style>`},
		{"svg", `<a><svg viewBox="0 0 8 8"><style>.a{}</style><title>Icon</title><path d="M0 0"/></svg>Home</a><style>b</style>`,
			`<a><svg viewBox="0 0 8 8"></svg>Home</a><style></style>`},
		{"comment in svg", `<svg><!-- a --><path/></svg><!-- b -->`, `<svg></svg><!---->`},
		{"nested svg", `<svg><g><svg><path/></svg></g></SVG >x`, `<svg></SVG >x`},
		{"self-closing svg", `<svg/><style>b</style>`, `<svg/><style></style>`},
		{"svg left by an HTML tag", `<svg><p><style>x</style>`, `<svg><p><style>x</style>`},
		{"svg end tag of no open element", `<svg><g></h1><style>x</style>`, `<svg><g></h1><style>x</style>`},
		{"svg style with markup", `<svg><style><x></style></svg><style>y</style>`, `<svg><style><x></style></svg><style>y</style>`},
		{"svg left unclosed", `<svg><path d="M0"><style>y</style>`, `<svg><path d="M0"><style>y</style>`},
		{"math", `<math><mi>x</mi></math><style>y</style>`, `<math><mi>x</mi></math><style>y</style>`},
		{"plaintext", `<plaintext><script>x</script>`, `<plaintext><script>x</script>`},
		{"nothing to drop", `<p>plain</p>`, `<p>plain</p>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(dropUnread([]byte(tt.in))); got != tt.want {
				t.Errorf("dropUnread(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			checkDropUnread(t, []byte(tt.in))
		})
	}
}

// TestDropUnreadPages checks the parse of every test page.
func TestDropUnreadPages(t *testing.T) {
	pages, _ := filepath.Glob("testdata/*.html")
	more, _ := filepath.Glob("content/testdata/pages/*.html")
	for _, p := range append(pages, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(p), func(t *testing.T) { checkDropUnread(t, b) })
	}
}

func FuzzDropUnread(f *testing.F) {
	for _, s := range []string{
		`<script><!--<script>--></script>x`, `<svg><title>a</title><desc><style>b</style></desc></svg>`,
		`<svg><g></g></svg><script>c</script>`, `<svg><g></svg><script>d</script>`,
		`<a b=c/><script>e</script>`, `<frameset><script> </script>`, `<![CDATA[<script>]]>`,
		`<svg><![CDATA[</svg><script>]]></svg>`, `<table><style>x</style><tr>`, `</b/ ><script>x</script>`,
		`<script type="ld&plus;json">{}</script>`, `<script type=ld&#43json>{}</script>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		checkDropUnread(t, page)
	})
}

// checkDropUnread checks that the page that dropUnread makes
// parses as the page itself does, but for the text of the scripts and
// style sheets, the content of SVG images, the text of comments and the
// attributes extraction never reads, and that the scripts that extraction
// reads keep theirs.
func checkDropUnread(t testing.TB, page []byte) {
	t.Helper()
	want, err := html.Parse(bytes.NewReader(page))
	dropped := dropUnread(page)
	got, err2 := html.Parse(bytes.NewReader(dropped))
	if (err == nil) != (err2 == nil) {
		t.Fatalf("parse: %v, after dropUnread %v", err, err2)
	}
	if err != nil {
		return
	}
	var kept []string
	eachRawText(want, func(n *html.Node) {
		if n.DataAtom == atom.Script && readsScript(n) {
			kept = append(kept, textOf(n))
		}
	})
	var keptAfter []string
	eachRawText(got, func(n *html.Node) {
		if n.DataAtom == atom.Script && readsScript(n) {
			keptAfter = append(keptAfter, textOf(n))
		}
	})
	if fmt.Sprint(kept) != fmt.Sprint(keptAfter) {
		t.Errorf("scripts read by extraction: %q, after dropUnread %q", kept, keptAfter)
	}
	empty := func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = n.FirstChild {
			n.RemoveChild(c)
		}
	}
	eachRawText(want, empty)
	eachRawText(got, empty)
	eachSVG(want, empty)
	eachSVG(got, empty)
	clearComments(want)
	clearComments(got)
	dropUnreadAttrs(want)
	dropUnreadAttrs(got)
	if w, g := dumpTree(want), dumpTree(got); w != g {
		t.Errorf("page %q\nafter dropUnread %q\nparses as\n%s\nnot\n%s", page, dropped, g, w)
	}
}

// readsScript reports whether extraction reads the script's text.
func readsScript(n *html.Node) bool {
	for _, a := range n.Attr {
		if strings.Contains(strings.ToLower(a.Val), "ld+json") {
			return true
		}
	}
	return strings.Contains(textOf(n), "$R")
}

func textOf(n *html.Node) string {
	var sb strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		sb.WriteString(c.Data)
	}
	return sb.String()
}

// eachRawText calls fn with every HTML script and style element.
func eachRawText(n *html.Node, fn func(*html.Node)) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		eachRawText(c, fn)
	}
	if n.Type == html.ElementNode && n.Namespace == "" && (n.DataAtom == atom.Script || n.DataAtom == atom.Style) {
		fn(n)
	}
}

// eachSVG calls fn with every <svg> element in HTML content.
func eachSVG(n *html.Node, fn func(*html.Node)) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Namespace == "svg" && c.Data == "svg" && n.Namespace == "" {
			fn(c)
			continue
		}
		eachSVG(c, fn)
	}
}

// dropUnreadAttrs removes the attributes that unreadAttr names from the
// elements of a tree (a page's SVG content and the rest of the page after
// what ends the scan keep theirs).
func dropUnreadAttrs(n *html.Node) {
	kept := n.Attr[:0]
	for _, a := range n.Attr {
		if a.Key == "" || !unreadAttr([]byte(a.Key), []byte(a.Val)) {
			kept = append(kept, a)
		}
	}
	n.Attr = kept
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		dropUnreadAttrs(c)
	}
}

// clearComments empties every comment.
func clearComments(n *html.Node) {
	if n.Type == html.CommentNode {
		n.Data = ""
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		clearComments(c)
	}
}

// dumpTree writes a tree one node a line, indented by depth.
func dumpTree(n *html.Node) string {
	var sb strings.Builder
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		fmt.Fprintf(&sb, "%s%d %s:%q %q\n", strings.Repeat(" ", depth), n.Type, n.Namespace, n.Data, n.Attr)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return sb.String()
}
