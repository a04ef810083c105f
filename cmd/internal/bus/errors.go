package bus

// The consume loop decides a message's fate by its handler's error:
//
//   - nil: the effect is durable; ack.
//   - an error with a Permanent() bool method that reports true anywhere in
//     its chain: retrying cannot help; park the message with its error and
//     term it.
//   - an error with a Temporary() bool method that reports true: a
//     dependency is down (the database, the next stream); nak with a
//     growing delay, however often, and never park: an outage must not
//     dead-letter good messages. The batch loop also pauses its pulls.
//   - any other error: nak with a growing delay, and park the message once
//     it has been delivered MaxDeliver times.
//
// Stages declare their own error types with these methods; they need not
// import this package.

type classified struct {
	err       error
	permanent bool
}

func (e *classified) Error() string   { return e.err.Error() }
func (e *classified) Unwrap() error   { return e.err }
func (e *classified) Permanent() bool { return e.permanent }
func (e *classified) Temporary() bool { return !e.permanent }

func permanent(err error) error { return &classified{err: err, permanent: true} }
func temporary(err error) error { return &classified{err: err} }

// IsPermanent reports whether err, or an error it wraps, says it is
// permanent.
func IsPermanent(err error) bool {
	return says(err, func(e error) (bool, bool) {
		p, ok := e.(interface{ Permanent() bool })
		return ok && p.Permanent(), ok
	})
}

// IsTemporary reports whether err, or an error it wraps, says it is
// temporary.
func IsTemporary(err error) bool {
	return says(err, func(e error) (bool, bool) {
		t, ok := e.(interface{ Temporary() bool })
		return ok && t.Temporary(), ok
	})
}

// says walks err's chain to the first error that answers ask.
func says(err error, ask func(error) (answer, answered bool)) bool {
	for err != nil {
		if a, ok := ask(err); ok {
			return a
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if says(e, ask) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}
