package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/process"
)

// chromium returns the path of a Chromium to drive, from
// $NEWSFLOW_CHROMIUM or the PATH. Without one the test is skipped, except
// on CI, where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NEWSFLOW_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium found (install Debian's chromium package, or set $NEWSFLOW_CHROMIUM): the browser tests need one"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser starts a headless Chromium for the test and returns its context,
// and how many JavaScript dialogs (alert, confirm) pages opened.
func browser(t *testing.T) (context.Context, *atomic.Int64) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	var dialogs atomic.Int64
	go func() {
		for _, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			dialogs.Add(1)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return ctx, &dialogs
}

// hostileSite serves a feed whose first story is hostile (script in its
// title, description, body and links, a javascript: image) and whose second
// page answers 500 until fixed.
func hostileNewsSite(t *testing.T, fixed *atomic.Bool) *httptest.Server {
	paras := strings.Repeat("<p>The harbour festival filled the quay with stalls, music and boats from every village along the coast, and the organisers counted more visitors than in any year before.</p>", 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour Gazette</title>
<item><title>&lt;script&gt;alert(1)&lt;/script&gt;Harbour festival</title><link>http://%[1]s/festival.html</link><guid>festival-1</guid>
<description>&lt;img src=x onerror=alert(2)&gt;</description></item>
<item><title>The quay wall is mended</title><link>http://%[1]s/quay.html</link><guid>quay-1</guid></item></channel></rss>`, r.Host)
		case "/festival.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html lang="en"><head><title>&lt;script&gt;alert(3)&lt;/script&gt;Harbour festival</title>
<meta property="og:image" content="javascript:alert(4)"><meta name="description" content="&lt;img src=x onerror=alert(5)&gt; A festival">
</head><body><article><h1><script>alert(6)</script>Harbour festival</h1>`+paras+
				`<p><a href="javascript:alert(7)">the programme</a> <img src="x" onerror="alert(8)"></p></article></body></html>`)
		case "/second.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Ferry News</title>
<item><title>The ferry timetable changes</title><link>http://%s/ferry.html</link><guid>ferry-1</guid></item></channel></rss>`, r.Host)
		case "/ferry.html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html lang="en"><head><title>The ferry timetable changes</title></head><body><article><h1>The ferry timetable changes</h1>`+
				strings.Repeat("<p>From Monday the first ferry of the day leaves the island half an hour earlier, so that pupils reach the school on the mainland before the bell.</p>", 4)+
				`</article></body></html>`)
		case "/quay.html":
			if !fixed.Load() {
				http.Error(w, "the database is on fire", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<html lang="en"><head><title>The quay wall is mended</title></head><body><article><h1>The quay wall is mended</h1>`+
				strings.Repeat("<p>Masons worked through the week to close the gap in the old quay wall before the spring tides, and the harbour master says boats may tie up again.</p>", 4)+
				`</article></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestConsoleInBrowser drives the console of a running pipeline in
// headless Chromium: each page loads, a search finds the hostile story,
// whose page runs no script and links nowhere unsafe, a parked page
// retried from the Parked page leaves the list and is stored, and a feed
// added on the Feeds page is polled.
func TestConsoleInBrowser(t *testing.T) {
	ctx, dialogs := browser(t)
	var fixed atomic.Bool
	site := hostileNewsSite(t, &fixed)
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.txt")
	if err := os.WriteFile(feeds, []byte(site.URL+"/feed.xml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(feeds, filepath.Join(dir, "data"))
	cfg.interval = time.Second // the failing page's tries take a poll each
	r := startPipeline(t, cfg)
	defer r.stop(t)
	mux := http.NewServeMux()
	if err := r.mountAPI(t.Context(), mux, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	console := httptest.NewServer(mux)
	defer console.Close()
	eventually(t, "the festival stored and the quay page parked", func() bool {
		return r.storedStats().Inserted == 1 && streamCount(t, r.bus, bus.StreamParked) == 1
	})

	// The screenshots go to the test's temporary folder, or to
	// $NEWSFLOW_SCREENSHOTS to be kept.
	shots := cmp.Or(os.Getenv("NEWSFLOW_SCREENSHOTS"), t.TempDir())
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			// Right after a navigation the page may have no size yet
			// ("Cannot take screenshot with 0 width"): try until it has.
			for {
				b, err := chromedp.FullScreenshot(100)(ctx, tg)
				if err == nil {
					return os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644)
				}
				if !strings.Contains(err.Error(), "0 width") || ctx.Err() != nil {
					return err
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			// What the page showed, to tell a slow page from a wrong one.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			shown, _ := chromedp.Run(pctx, chromedp.Evaluate[string](`document.location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: %v; the page shows:\n%s", what, err, shown)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	eval := func(js string) bool {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return ok
	}

	// safePage checks the page has no script element, event handler or
	// javascript: URL.
	safePage := func(what string) {
		t.Helper()
		if !eval(`document.querySelectorAll("script").length === 0`) {
			t.Errorf("%s has a script element", what)
		}
		if !eval(`[...document.querySelectorAll("[href],[src]")].every(e => !/^\s*javascript:/i.test(e.getAttribute("href") || e.getAttribute("src") || ""))`) {
			t.Errorf("%s has a javascript: link or image", what)
		}
		if !eval(`[...document.querySelectorAll("*")].every(e => ![...e.attributes].some(a => a.name.startsWith("on")))`) {
			t.Errorf("%s has an event handler attribute", what)
		}
	}

	// Overview, usable by keyboard: the first Tab reaches the skip link.
	run("overview", chromedp.Navigate(console.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#parked-count")), shot("overview"))
	if got := text("#parked-count"); got != "1" {
		t.Errorf("overview: %s parked, want 1", got)
	}
	run("tab", chromedp.KeyEvent("\t"))
	if !eval(`document.activeElement.classList.contains("skip")`) {
		t.Error("the first Tab does not reach the skip link")
	}
	// On a phone's width nothing scrolls sideways but the tables.
	run("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(console.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#parked-count")), shot("overview-phone"))
	if !eval(`document.documentElement.scrollWidth <= window.innerWidth`) {
		t.Error("the overview is wider than a phone's screen")
	}
	run("desktop", chromedp.EmulateViewport(1280, 900))

	// Search, open the hostile story.
	run("search", chromedp.Navigate(console.URL+"/articles"), chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "festival"), chromedp.Click(chromedp.CSS("#search-button")),
		chromedp.WaitVisible(chromedp.CSS(".result h3 a")), shot("search"))
	if got := text(".result h3 a"); !strings.Contains(got, "Harbour festival") {
		t.Errorf("search result %q", got)
	}
	run("article", chromedp.Click(chromedp.CSS(".result h3 a")), chromedp.WaitVisible(chromedp.CSS("#article-body")), shot("article"))
	if !strings.Contains(text("#article-body"), "stalls, music and boats") {
		t.Error("the article page does not show the story's text")
	}
	safePage("the story's page")
	if !eval(`/^https?:/.test(document.querySelector("#original").href)`) {
		t.Error("the link to the original is not http(s)")
	}

	// A record whose fields were never made safe (written by another
	// tool, or an older newsflow) shows as text, without script.
	const js = "javascript:alert(9)"
	raw := process.Article{SchemaVersion: process.ArticleSchemaVersion, ID: "hostile", URL: js, Link: js, Feed: "evil",
		Title: `<script>alert(10)</script>Hostile`, Authors: []string{`<img src=x onerror=alert(11)>`}, SiteName: `"><script>alert(12)</script>`,
		Description: `<b onmouseover=alert(13)>bold</b>`, Image: js, Text: "Nothing to see.", HTML: "<p>Nothing to see.</p>",
		ContentHash: "sha256:hostile", FetchedAt: time.Now(), ExtractorVersion: process.ExtractorVersion}
	if _, err := r.db.Upsert(t.Context(), []process.Article{raw}); err != nil {
		t.Fatal(err)
	}
	run("hostile record", chromedp.Navigate(console.URL+"/articles/hostile"), chromedp.WaitVisible(chromedp.CSS("#article-body")), shot("hostile"))
	if got := text("main h1"); got != raw.Title {
		t.Errorf("the hostile title shows as %q, want its text", got)
	}
	safePage("the hostile record's page")

	// Retry the parked page once it is fixed: it leaves the list.
	run("parked", chromedp.Navigate(console.URL+"/parked"), chromedp.WaitVisible(chromedp.CSS("#parked")), shot("parked"))
	if got := text("#parked .errtext"); !strings.Contains(got, "500") {
		t.Errorf("the parked message's error is %q, want the page's 500", got)
	}
	fixed.Store(true)
	run("retry", chromedp.Click(chromedp.CSS("#parked button")), chromedp.WaitVisible(chromedp.CSS("#none-parked")), shot("retried"))
	if got := text(".flash"); !strings.Contains(got, "went back to its stage") {
		t.Errorf("after the retry the page says %q", got)
	}
	eventually(t, "the mended page stored", func() bool { return r.storedStats().Inserted == 2 })

	// Add a feed on the Feeds page: it is polled, and its story stored.
	second := site.URL + "/second.xml"
	run("add feed", chromedp.Navigate(console.URL+"/feeds"), chromedp.WaitVisible(chromedp.CSS("#feed-url")),
		chromedp.SendKeys(chromedp.CSS("#feed-url"), second), chromedp.Click(chromedp.CSS("#add-feed")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	state := fmt.Sprintf(`(() => { const row = [...document.querySelectorAll("#feeds tbody tr")].find(r => r.textContent.includes(%q)); return row ? row.cells[1].textContent.trim() : "absent"; })()`, second)
	checkFor(t, 60*time.Second, func() error {
		run("reload feeds", chromedp.Navigate(console.URL+"/feeds"), chromedp.WaitVisible(chromedp.CSS("#feeds")))
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](state))
		if err != nil || got != "ok" {
			return fmt.Errorf("the added feed's state is %q (%v), want ok once polled", got, err)
		}
		return nil
	})
	run("feeds", shot("feeds"))
	eventually(t, "the added feed's story stored", func() bool { return r.storedStats().Inserted == 3 })
	// Pause it from its row.
	pause := fmt.Sprintf(`[...document.querySelectorAll("#feeds tbody tr")].find(r => r.textContent.includes(%q)).querySelector("form[action$='/pause'] button").click()`, second)
	run("pause", chromedp.Evaluate[chromedp.Void](pause), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](state)); err != nil || got != "paused" {
		t.Errorf("after pausing, the feed's state is %q (%v)", got, err)
	}

	if n := dialogs.Load(); n != 0 {
		t.Errorf("pages opened %d JavaScript dialogs", n)
	}
	t.Logf("screenshots in %s", shots)
}
