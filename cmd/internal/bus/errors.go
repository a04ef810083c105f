package bus

// The consume loop decides a message's fate by its handler's error:
//
//   - nil: the effect is durable; ack.
//   - an error with a Permanent() bool method that reports true anywhere in
//     its chain: retrying cannot help; park the message with its error and
//     term it.
//   - any other error is taken as temporary: nak with a growing delay, and
//     park the message once it has been delivered MaxDeliver times.
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
	for err != nil {
		if p, ok := err.(interface{ Permanent() bool }); ok {
			return p.Permanent()
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if IsPermanent(e) {
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
