package bus

import (
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// reconnectOptions make a connection ride out a server's restart or the
// death of a cluster member: it reconnects forever, at most a second and
// a bit apart (the jitter spreads many clients), keeps up to 8 MiB of
// publishes meanwhile (each still bounded by publishTimeout), notices a
// server that went silent within about six seconds of pings, and logs the
// errors that arrive outside any call (a slow consumer, a permissions
// violation). Connect's own handlers log each disconnect and reconnect.
func reconnectOptions(log *slog.Logger) []nats.Option {
	return []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.ReconnectJitter(500*time.Millisecond, time.Second),
		nats.ReconnectBufSize(8 << 20),
		nats.PingInterval(2 * time.Second),
		nats.MaxPingsOutstanding(3),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Warn("nats error", "subject", subject, "err", err)
		}),
	}
}
