package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/newsflow/newsflow/cmd/internal/bus"
)

// Parked is what the API needs of the parked stream; the binary's adapter
// over *bus.Bus has it.
type Parked interface {
	// ParkedAfter returns up to limit parked messages with a sequence
	// number above after, oldest first, and how many are parked in all.
	ParkedAfter(ctx context.Context, after uint64, limit int) ([]bus.Parked, uint64, error)
	// RetryParked sends the message back to its stage: an error wrapping
	// bus.ErrNotParked if there is none with seq, bus.ErrStaysParked if it
	// could not be made anew.
	RetryParked(ctx context.Context, seq uint64) error
}

// DefaultParkedLimit is the page size of GET /api/v1/parked.
const DefaultParkedLimit = 100

// MountParked serves GET /api/v1/parked and POST
// /api/v1/parked/{seq}/retry from p.
func (h *Handler) MountParked(p Parked) {
	h.handle("GET /api/v1/parked", func(w http.ResponseWriter, r *http.Request) { h.listParked(w, r, p) })
	h.handle("POST /api/v1/parked/{seq}/retry", h.mutating(func(w http.ResponseWriter, r *http.Request) { h.retryParked(w, r, p) }))
}

// parkedAnswer is the body of GET /api/v1/parked.
type parkedAnswer struct {
	Parked []bus.Parked `json:"parked"`
	// Total is how many messages are parked; Next the next page's request.
	Total uint64 `json:"total"`
	Next  string `json:"next,omitempty"`
}

func (h *Handler) listParked(w http.ResponseWriter, r *http.Request, p Parked) {
	params := r.URL.Query()
	for name, vals := range params {
		if name != "after" && name != "limit" {
			writeError(w, http.StatusBadRequest, name, name+": unknown parameter (known: after, limit)")
			return
		}
		if len(vals) > 1 {
			writeError(w, http.StatusBadRequest, name, name+": given more than once")
			return
		}
	}
	var after uint64
	if s := params.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "after", fmt.Sprintf("after: %q is not a parked message's sequence number", s))
			return
		}
		after = n
	}
	limit := DefaultParkedLimit
	if s := params.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit", fmt.Sprintf("limit: %q is not a number from 1 to 1000", s))
			return
		}
		limit = n
	}
	list, total, err := p.ParkedAfter(r.Context(), after, limit+1)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	ans := parkedAnswer{Parked: list, Total: total}
	if ans.Parked == nil {
		ans.Parked = []bus.Parked{}
	}
	if len(list) > limit {
		ans.Parked = list[:limit]
		params.Set("after", strconv.FormatUint(list[limit-1].Seq, 10))
		ans.Next = r.URL.Path + "?" + params.Encode()
	}
	writeJSON(w, http.StatusOK, ans)
}

// retryAnswer is the body of a successful retry.
type retryAnswer struct {
	Seq     uint64 `json:"seq"`
	Retried bool   `json:"retried"`
}

func (h *Handler) retryParked(w http.ResponseWriter, r *http.Request, p Parked) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "seq", fmt.Sprintf("seq: %q is not a parked message's sequence number", r.PathValue("seq")))
		return
	}
	switch err := p.RetryParked(r.Context(), seq); {
	case errors.Is(err, bus.ErrNotParked):
		writeError(w, http.StatusNotFound, "seq", fmt.Sprintf("seq: no parked message %d", seq))
	case errors.Is(err, bus.ErrStaysParked):
		writeError(w, http.StatusConflict, "", err.Error())
	case err != nil:
		h.internalError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, retryAnswer{Seq: seq, Retried: true})
	}
}
