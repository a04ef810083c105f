package bus

import (
	"time"

	"github.com/newsflow/newsflow/ingest/fault"
)

// The consume loop decides a message's fate by its handler's error (see
// decide):
//
//   - nil: the effect is durable; ack.
//   - an error whose class (fault.Of) is permanent: retrying cannot help; park the message with its error and
//     term it.
//   - deferred: this stage
//     cannot handle the message yet (a record of a newer schema during a
//     rolling upgrade); nak it with DeferDelay, however often, and never
//     park it. The messages behind it go on.
//   - temporary: a dependency is down (the database, the next stream); the stage holds
//     the message and tries again, every MaxPause at most, until the
//     dependency is back. It never parks it: an outage must not
//     dead-letter good messages.
//   - unclassified: nak with a growing delay, and park the message once
//     it has been delivered MaxDeliver times.
//
// Stages say an error's class with a method (Temporary, Permanent or
// Deferred) or mark it with package fault.

// permanent and temporary mark the bus's own errors.
func permanent(err error) error { return fault.AsPermanent(err) }
func temporary(err error) error { return fault.AsTemporary(err) }

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
	if err == nil {
		return decision{fate: ack}
	}
	switch fault.Of(err) {
	case fault.Permanent:
		return decision{fate: park}
	case fault.Deferred:
		return decision{fate: deferred, delay: o.DeferDelay}
	case fault.Temporary:
		return decision{fate: hold, delay: o.Backoff[0]}
	}
	switch {
	case delivered < uint64(o.MaxDeliver):
		return decision{fate: retry, delay: o.backoff(delivered)}
	default:
		return decision{fate: park}
	}
}
