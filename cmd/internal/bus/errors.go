package bus

import "time"

// The consume loop decides a message's fate by its handler's error (see
// decide):
//
//   - nil: the effect is durable; ack.
//   - an error with a Permanent() bool method that reports true anywhere in
//     its chain: retrying cannot help; park the message with its error and
//     term it.
//   - an error with a Deferred() bool method that reports true: this stage
//     cannot handle the message yet (a record of a newer schema during a
//     rolling upgrade); nak it with DeferDelay, however often, and never
//     park it. The messages behind it go on.
//   - an error with a Temporary() bool method that reports true: a
//     dependency is down (the database, the next stream); the stage holds
//     the message and tries again, every MaxPause at most, until the
//     dependency is back. It never parks it: an outage must not
//     dead-letter good messages.
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

// IsDeferred reports whether err, or an error it wraps, says it is
// deferred: the message is fine, but this stage cannot handle it yet.
func IsDeferred(err error) bool {
	return says(err, func(e error) (bool, bool) {
		d, ok := e.(interface{ Deferred() bool })
		return ok && d.Deferred(), ok
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

// fate is what the consume loop does with a handled message.
type fate int

const (
	ack      fate = iota
	retry         // nak with a delay that grows per delivery; park after MaxDeliver
	deferred      // nak with DeferDelay; never park
	hold          // a dependency is down: keep the message and try again; never park
	park          // copy to StreamParked with the error, and term
)

func (f fate) String() string {
	return [...]string{"ack", "retry", "defer", "hold", "park"}[f]
}

// decision is a fate and, for a nak, its delay.
type decision struct {
	fate  fate
	delay time.Duration
}

// decide maps a handler's error for the delivered-th delivery of a message
// to its fate. A held message that cannot be held any longer (the stage is
// shutting down) is naked with the delay given.
func decide(err error, delivered uint64, o *ConsumerOptions) decision {
	switch {
	case err == nil:
		return decision{fate: ack}
	case IsPermanent(err):
		return decision{fate: park}
	case IsDeferred(err):
		return decision{fate: deferred, delay: o.DeferDelay}
	case IsTemporary(err):
		return decision{fate: hold, delay: o.Backoff[0]}
	case delivered < uint64(o.MaxDeliver):
		return decision{fate: retry, delay: o.backoff(delivered)}
	default:
		return decision{fate: park}
	}
}
