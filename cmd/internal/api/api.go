// Package api serves newsflow's HTTP API under /api/v1/: article search
// and single articles with their near-duplicates, parked messages and
// their retry, the pipeline's stats, JSON errors, and the OpenAPI document
// that describes it (/api/v1/openapi.json).
//
// The handlers need only a small view of the store (Articles), so that
// any server, the status server of `newsflow run` or a web console, can
// mount them.
package api

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/newsflow/newsflow/ingest/fault"
	"github.com/newsflow/newsflow/process"
	"github.com/newsflow/newsflow/store"
)

// Articles is what the API reads from the store; *store.SQLite and
// *store.Postgres have it.
type Articles interface {
	Search(ctx context.Context, q store.Query) (store.Page, error)
	Get(ctx context.Context, id string) (process.Article, error)
	NearDuplicates(ctx context.Context, id string) ([]process.Article, error)
}

// MaxLimit is the largest page an API request may ask for.
const MaxLimit = 100

//go:embed openapi.json
var openAPIDoc []byte

// Handler serves the API. Create it with New.
type Handler struct {
	articles Articles
	token    string
	log      *slog.Logger
	mux      *http.ServeMux
	routes   []string
	fields   map[string]bool // the JSON names of process.Article's fields
	origin   *http.CrossOriginProtection
	feeds    Feeds
}

// New returns the API over articles. With a token, every request must
// carry "Authorization: Bearer TOKEN".
func New(articles Articles, token string, log *slog.Logger) *Handler {
	h := &Handler{articles: articles, token: token, log: log, mux: http.NewServeMux(), fields: map[string]bool{},
		origin: http.NewCrossOriginProtection()}
	t := reflect.TypeFor[process.Article]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			h.fields[name] = true
		}
	}
	h.handle("GET /api/v1/articles", h.searchArticles)
	h.handle("GET /api/v1/articles/{id}", h.getArticle)
	h.handle("GET /api/v1/articles/{id}/revisions", h.getRevisions)
	h.handle("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPIDoc)
	})
	h.handleFeeds()
	h.mux.HandleFunc("/", h.notFound)
	return h
}

// handle registers a route. A request for its path with another method
// is answered 405 (see notFound).
func (h *Handler) handle(pattern string, fn http.HandlerFunc) {
	h.routes = append(h.routes, pattern)
	h.mux.HandleFunc(pattern, fn)
}

// notFound answers a request no route took: 405 naming the allowed
// methods when its path has routes, 404 otherwise.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); strings.HasPrefix(pattern, m+" ") {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeError(w, http.StatusNotFound, "", fmt.Sprintf("no such endpoint: %s", r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "", fmt.Sprintf("%s %s: only %s allowed", r.Method, r.URL.Path, strings.Join(allow, ", ")))
}

// mutating wraps a handler that changes something: it needs the API token,
// so a server started without one refuses it. (A token cannot be sent
// cross-origin by a browser without a CORS preflight, which this server
// never allows: the token also guards against cross-site requests.)
func (h *Handler) mutating(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.token == "" {
			writeError(w, http.StatusForbidden, "", "this endpoint changes state and needs an API token: start newsflow with $NEWSFLOW_API_TOKEN or $NEWSFLOW_API_TOKEN_FILE and send Authorization: Bearer TOKEN")
			return
		}
		fn(w, r)
	}
}

// Routes returns the registered routes as "METHOD /path" patterns.
func (h *Handler) Routes() []string { return h.routes }

// Register mounts the API on mux under /api/.
func (h *Handler) Register(mux *http.ServeMux) { mux.Handle("/api/", h) }

// ServeHTTP checks the token, then serves the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="newsflow"`)
			writeError(w, http.StatusUnauthorized, "", "missing or wrong API token: send Authorization: Bearer TOKEN")
			return
		}
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// A browser's request from another site must not change anything, even
	// on a loopback server without a token: a page could otherwise post to
	// it (CSRF). Clients that are not browsers send no Origin or
	// Sec-Fetch-Site header and pass.
	if err := h.origin.Check(r); err != nil {
		writeError(w, http.StatusForbidden, "", "cross-origin requests from a browser may not change anything")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// apiError is the body of every error answer.
type apiError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
	// Param names the query parameter that was wrong, if one was.
	Param string `json:"param,omitempty"`
}

func writeError(w http.ResponseWriter, status int, param, msg string) {
	writeJSON(w, status, apiError{Error: msg, Status: status, Param: param})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// storeError answers a failed store call: a bad query is the client's
// (400, naming the parameter), a missing article 404, a temporary failure
// 503; anything else is logged and answered 500 without its details.
func (h *Handler) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if qe, ok := store.IsQueryError(err); ok {
		writeError(w, http.StatusBadRequest, qe.Param, qe.Param+": "+qe.Err.Error())
		return
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "", "no article with id "+r.PathValue("id"))
		return
	}
	h.log.Error("api: store failed", "path", r.URL.Path, "err", err)
	if fault.IsTemporary(err) {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "", "the store is busy or unreachable; retry later")
		return
	}
	writeError(w, http.StatusInternalServerError, "", "internal error reading the store")
}

// internalError answers a failure that is not the client's: 503 when it
// is temporary or timed out, 500 otherwise, logged without its details
// in the answer.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if fault.IsTemporary(err) || errors.Is(err, context.DeadlineExceeded) {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "", "NATS or the store is busy or unreachable; retry later")
		return
	}
	writeError(w, http.StatusInternalServerError, "", "internal error")
}
