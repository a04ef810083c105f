package store

import (
	"fmt"
)

// InvalidArticleError reports an article that can never be stored as it is.
// It is permanent: retrying the same input gives the same error.
type InvalidArticleError struct {
	// ID is the article's id, empty if it had none.
	ID string
	// Index is the article's position in the Upsert batch, -1 outside one.
	Index int
	// Field is the JSON name of the offending field, with a path into
	// nested values ("feed_item.authors[1]"); "record" when the database
	// rejected the row without saying which field.
	Field string
	// Err says what is wrong with the field.
	Err error
}

// Error implements error.
func (e *InvalidArticleError) Error() string {
	at := ""
	if e.Index >= 0 {
		at = fmt.Sprintf(" (batch index %d)", e.Index)
	}
	return fmt.Sprintf("store: invalid article %q%s: field %s: %v", e.ID, at, e.Field, e.Err)
}

// Unwrap returns the cause.
func (e *InvalidArticleError) Unwrap() error { return e.Err }

// Permanent reports that the error does not go away on retry.
func (e *InvalidArticleError) Permanent() bool { return true }

// TemporaryError wraps a database error that is expected to go away on
// retry: a busy or locked database, a serialization failure or deadlock, a
// failed or closed connection. Nothing was committed.
type TemporaryError struct {
	// Op names what the store was doing ("upsert", "get", ...).
	Op  string
	Err error
}

// Error implements error.
func (e *TemporaryError) Error() string {
	return fmt.Sprintf("store: %s: temporary: %v", e.Op, e.Err)
}

// Unwrap returns the database error.
func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary reports that a retry may succeed.
func (e *TemporaryError) Temporary() bool { return true }

// DeferredError reports a record this store cannot take yet: one written
// by a newer version of newsflow (a newer schema_version, as during a
// rolling upgrade). Stored now, its new fields would be lost. It is not
// the record's fault, so it is never parked for it, and not the store's
// either, so the records behind it go on: it waits for an upgraded store.
type DeferredError struct {
	// ID is the record's id.
	ID  string
	Err error
}

// Error implements error.
func (e *DeferredError) Error() string {
	return fmt.Sprintf("store: record %q deferred: %v", e.ID, e.Err)
}

// Unwrap returns the cause.
func (e *DeferredError) Unwrap() error { return e.Err }

// Deferred reports that the record waits for a newer store.
func (e *DeferredError) Deferred() bool { return true }

// InvalidArticles returns every *InvalidArticleError in err's tree, in
// batch order, so that a consumer can park exactly those messages.
func InvalidArticles(err error) []*InvalidArticleError {
	var out []*InvalidArticleError
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if ia, ok := err.(*InvalidArticleError); ok {
			out = append(out, ia)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
