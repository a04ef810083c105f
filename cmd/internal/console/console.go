// Package console serves newsflow's web console: an overview of the
// pipeline, article search and reading, parked messages and their retry,
// and the feeds with their health. Pages are rendered on the server with
// html/template (every value escaped, except an article's sanitized html),
// styled by one small CSS file, without script.
//
// Forms that change something carry a CSRF token tied to a signed session
// cookie. With an API token configured, the console asks for it once and
// keeps the session; without one (the server then listens on loopback
// only), every visitor may use it.
package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/newsflow/newsflow/cmd/internal/api"
	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// Articles is what the console reads of the store.
type Articles interface {
	Search(ctx context.Context, q store.Query) (store.Page, error)
	Get(ctx context.Context, id string) (process.Article, error)
	NearDuplicates(ctx context.Context, id string) ([]process.Article, error)
}

// Parked lists parked messages and sends them back to their stage.
type Parked interface {
	ParkedAfter(ctx context.Context, after uint64, limit int) ([]bus.Parked, uint64, error)
	// RetryParked returns an error wrapping bus.ErrNotParked or
	// bus.ErrStaysParked when the message cannot go.
	RetryParked(ctx context.Context, seq uint64) error
}

// Stats reads the pipeline's state.
type Stats interface {
	Stats(ctx context.Context) (api.Stats, error)
}

// Options are what the console shows and changes. Articles, Parked and
// Stats are needed; a console without Feeds says feeds cannot be managed
// here, and one without FeedEditor or FeedOPML offers no such forms.
type Options struct {
	Articles   Articles
	Parked     Parked
	Stats      Stats
	Feeds      FeedLister
	FeedEditor FeedEditor
	FeedOPML   FeedOPML
	// Token is the API token that logs in; "" lets every visitor in.
	Token string
	Log   *slog.Logger
}

//go:embed templates static
var files embed.FS

// Console serves the web console. Create it with New.
type Console struct {
	o        Options
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
	origin   *http.CrossOriginProtection
}

// New returns the console over o.
func New(o Options) (*Console, error) {
	c := &Console{o: o, sessions: newSessions(o.Token), pages: map[string]*template.Template{},
		mux: http.NewServeMux(), origin: http.NewCrossOriginProtection()}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		page := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if page == "layout" {
			continue
		}
		t, err := template.New(page).Funcs(funcs).ParseFS(files, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[page] = t
	}
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, err
	}
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /login", c.loginPage)
	c.mux.HandleFunc("POST /login", c.login)
	c.mux.HandleFunc("POST /logout", c.logout)
	c.mux.HandleFunc("GET /{$}", c.overview)
	c.mux.HandleFunc("GET /articles", c.searchPage)
	c.mux.HandleFunc("GET /articles/{id}", c.articlePage)
	c.mux.HandleFunc("GET /parked", c.parkedPage)
	c.mux.HandleFunc("POST /parked/{seq}/retry", c.retry)
	c.mux.HandleFunc("GET /feeds", c.feedsPage)
	c.mux.HandleFunc("POST /feeds", c.addFeed)
	c.mux.HandleFunc("POST /feeds/{token}/{action}", c.changeFeed)
	c.mux.HandleFunc("POST /feeds/import", c.importOPML)
	c.mux.HandleFunc("GET /feeds/export", c.exportOPML)
	c.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "There is no page "+r.URL.Path+".")
	})
	return c, nil
}

// Register mounts the console on mux at /.
func (c *Console) Register(mux *http.ServeMux) { mux.Handle("/", c) }

// maxForm bounds a form's size, an OPML file's included.
const maxForm = 8 << 20

// ctxSession carries the request's session to the handlers.
type ctxSession struct{}

// ServeHTTP sets the security headers, finds or starts the session, sends
// a visitor who has not logged in to the login page, and refuses a form
// without the session's CSRF token or from another site.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(r.URL.Path, "/static/") {
		c.mux.ServeHTTP(w, r)
		return
	}
	h.Set("Cache-Control", "no-store")
	ss, ok := c.sessions.get(r)
	if !ok {
		ss = c.sessions.fresh(c.o.Token == "")
		c.sessions.set(w, r, ss)
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxSession{}, ss))
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := c.origin.Check(r); err != nil {
			c.fail(w, r, http.StatusForbidden, "This form was sent from another site, and refused.")
			return
		}
		if !c.sessions.checkCSRF(ss, r.PostFormValue("csrf")) {
			c.fail(w, r, http.StatusForbidden, "This form has expired or did not come from this console. Load the page again and resend it.")
			return
		}
	}
	if !ss.authed && r.URL.Path != "/login" {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		c.fail(w, r, http.StatusUnauthorized, "Log in first.")
		return
	}
	c.mux.ServeHTTP(w, r)
}

func sessionOf(r *http.Request) session {
	ss, _ := r.Context().Value(ctxSession{}).(session)
	return ss
}

// view is what every page's template gets.
type view struct {
	Title string
	// Nav is the menu entry of the page: overview, articles, parked, feeds.
	Nav   string
	CSRF  string
	Login bool // the console has a token, so a logout button shows
	// Authed says the visitor may see more than the login page.
	Authed bool
	// Flash is a line saying what the last form did; Error what went wrong.
	Flash, Error string
	Data         any
}

// render writes the page with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	ss := sessionOf(r)
	v.CSRF, v.Login, v.Authed = c.sessions.csrf(ss), c.o.Token != "", ss.authed
	t := c.pages[page]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		c.o.Log.Error("console: render", "page", page, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, b.String())
}

// fail shows an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", view{Title: http.StatusText(status), Error: msg})
}

// failed logs an error that is not the visitor's and shows a page saying
// what could not be read.
func (c *Console) failed(w http.ResponseWriter, r *http.Request, what string, err error) {
	c.o.Log.Error("console: "+what, "path", r.URL.Path, "err", err)
	c.fail(w, r, http.StatusServiceUnavailable, "Could not "+what+": NATS or the store did not answer. Try again in a moment.")
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if c.o.Token == "" || sessionOf(r).authed {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", view{Title: "Log in", Data: safeNext(r.FormValue("next"))})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if c.o.Token == "" {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(r.PostFormValue("token"))), []byte(c.o.Token)) != 1 {
		c.render(w, r, http.StatusUnauthorized, "login", view{Title: "Log in", Error: "That is not the API token.", Data: next})
		return
	}
	// A new session id on login, so that a session planted before it is
	// worth nothing after.
	c.sessions.set(w, r, c.sessions.fresh(true))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	c.sessions.set(w, r, c.sessions.fresh(c.o.Token == ""))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext is where to go after logging in: a path of this console, "/"
// for anything else.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// notFound reports whether err says a thing does not exist.
func notFound(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, bus.ErrNotParked)
}

// since is how long ago t was, in words.
func since(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh", int(d.Hours()))
	default:
		s = fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

var funcs = template.FuncMap{
	"ago":  func(t time.Time) string { return since(time.Now(), t) },
	"time": func(t time.Time) string { return formatTime(t) },
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"join": strings.Join,
	// web reports whether s is an http(s) URL, the only kind linked to.
	"web": func(s string) bool {
		u, err := url.Parse(s)
		return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"snippet": func(a process.Article) string {
		s := a.Description
		if s == "" {
			s = a.Text
		}
		if r := []rune(s); len(r) > 240 {
			s = strings.TrimSpace(string(r[:240])) + "…"
		}
		return s
	},
	"paragraphs": func(s string) []string {
		var out []string
		for p := range strings.SplitSeq(s, "\n") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	},
	// body is the article's sanitized html: the processor keeps only
	// allow-listed tags and attributes and absolute http(s) links.
	"body": func(a process.Article) template.HTML { return template.HTML(a.HTML) },
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
