package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/newsflow/newsflow/cmd/internal/bus"
)

// parkedPageSize is how many parked messages a page lists.
const parkedPageSize = 50

type parkedData struct {
	Parked []bus.Parked
	Total  uint64
	// Next is the sequence number the next page starts after, 0 on the last.
	Next uint64
}

func (c *Console) parkedPage(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Parked messages", Nav: "parked"}
	if s := r.URL.Query().Get("retried"); s != "" {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			v.Flash = fmt.Sprintf("Message %d went back to its stage.", n)
		}
	}
	c.showParked(w, r, http.StatusOK, v)
}

func (c *Console) showParked(w http.ResponseWriter, r *http.Request, status int, v view) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	list, total, err := c.o.Parked.ParkedAfter(r.Context(), after, parkedPageSize+1)
	if err != nil {
		c.failed(w, r, "list the parked messages", err)
		return
	}
	d := parkedData{Parked: list, Total: total}
	if len(list) > parkedPageSize {
		d.Parked, d.Next = list[:parkedPageSize], list[parkedPageSize-1].Seq
	}
	v.Data = d
	c.render(w, r, status, "parked", v)
}

func (c *Console) retry(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "That is not a parked message's number.")
		return
	}
	v := view{Title: "Parked messages", Nav: "parked"}
	switch err := c.o.Parked.RetryParked(r.Context(), seq); {
	case err == nil:
		http.Redirect(w, r, "/parked?retried="+url.QueryEscape(strconv.FormatUint(seq, 10)), http.StatusSeeOther)
	case errors.Is(err, bus.ErrNotParked):
		v.Error = fmt.Sprintf("Message %d is not parked (any more).", seq)
		c.showParked(w, r, http.StatusNotFound, v)
	case errors.Is(err, bus.ErrStaysParked):
		v.Error = fmt.Sprintf("Message %d stays parked: %v", seq, err)
		c.showParked(w, r, http.StatusConflict, v)
	default:
		c.failed(w, r, fmt.Sprintf("send message %d back", seq), err)
	}
}
