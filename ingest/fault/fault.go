// Package fault holds newsflow's error classes, which decide what becomes
// of a message whose handling failed: temporary (a dependency is down:
// wait for it and try again), permanent (the input can never succeed:
// park it), deferred (the input is fine but this version cannot handle it
// yet: let it wait without holding back the rest), or unclassified (retry
// a bounded number of times).
//
// An error says its class with a method: Temporary() bool, Permanent()
// bool or Deferred() bool. Stages declare their own error types with these
// methods, or mark an error with AsTemporary, AsPermanent or AsDeferred; Of
// reads the class back through wrapping (fmt.Errorf with %w, errors.Join).
//
// It lives under ingest, the stage every other imports, so that ingest,
// process, store and cmd all tell the classes the same way; it imports
// nothing of newsflow's.
package fault

// Class is an error's class.
type Class int

// The classes, in the order Of tries them on one error.
const (
	// Unclassified: unexpected; retry, but a bounded number of times.
	Unclassified Class = iota
	// Permanent: retrying cannot help; park the input with its error.
	Permanent
	// Deferred: this version cannot handle the input yet (a record of a
	// newer schema); retry later, never park, hold nothing back.
	Deferred
	// Temporary: a dependency is down; retry when it is back, never park.
	Temporary
)

func (c Class) String() string {
	return [...]string{"unclassified", "permanent", "deferred", "temporary"}[c]
}

// Of returns err's class: that of the first error in err's chain that has
// a class method reporting true, or Unclassified. An error with a class
// method reporting false (a FetchError that is not temporary) ends the
// search there. In a join, the first branch with a class wins.
func Of(err error) Class {
	for err != nil {
		if c, ok := own(err); ok {
			return c
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if c := Of(e); c != Unclassified {
					return c
				}
			}
			return Unclassified
		default:
			return Unclassified
		}
	}
	return Unclassified
}

// own returns the class err itself says, and whether it says one.
func own(err error) (Class, bool) {
	answered := false
	if p, ok := err.(interface{ Permanent() bool }); ok {
		if p.Permanent() {
			return Permanent, true
		}
		answered = true
	}
	if d, ok := err.(interface{ Deferred() bool }); ok {
		if d.Deferred() {
			return Deferred, true
		}
		answered = true
	}
	if t, ok := err.(interface{ Temporary() bool }); ok {
		if t.Temporary() {
			return Temporary, true
		}
		answered = true
	}
	return Unclassified, answered
}

// IsTemporary reports whether err's class is Temporary.
func IsTemporary(err error) bool { return Of(err) == Temporary }

// IsPermanent reports whether err's class is Permanent.
func IsPermanent(err error) bool { return Of(err) == Permanent }

// IsDeferred reports whether err's class is Deferred.
func IsDeferred(err error) bool { return Of(err) == Deferred }

// classed gives an error a class.
type classed struct {
	err   error
	class Class
}

func (e *classed) Error() string   { return e.err.Error() }
func (e *classed) Unwrap() error   { return e.err }
func (e *classed) Temporary() bool { return e.class == Temporary }
func (e *classed) Permanent() bool { return e.class == Permanent }
func (e *classed) Deferred() bool  { return e.class == Deferred }

// AsTemporary returns err marked temporary (nil for nil).
func AsTemporary(err error) error { return mark(err, Temporary) }

// AsPermanent returns err marked permanent (nil for nil).
func AsPermanent(err error) error { return mark(err, Permanent) }

// AsDeferred returns err marked deferred (nil for nil).
func AsDeferred(err error) error { return mark(err, Deferred) }

func mark(err error, c Class) error {
	if err == nil {
		return nil
	}
	return &classed{err: err, class: c}
}
