package bus

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers newsflow sets on its messages.
const (
	// HeaderPayloadObject names the object in BucketBodies that holds the
	// payload of a message too large to carry it.
	HeaderPayloadObject = "Newsflow-Payload-Object"
	// HeaderError, HeaderStage, HeaderSubject and HeaderDeliveries describe a
	// parked message: why, where and after how many tries it failed.
	HeaderError      = "Newsflow-Error"
	HeaderStage      = "Newsflow-Stage"
	HeaderSubject    = "Newsflow-Subject"
	HeaderDeliveries = "Newsflow-Deliveries"
	HeaderStreamSeq  = "Newsflow-Stream-Seq"
)

// headroom is kept free of a message's payload for headers and framing.
const headroom = 16 << 10

// publishTimeout bounds one publish's wait for the stream's
// acknowledgement, whatever the caller's deadline: an ack lost with a
// server that died mid-publish fails the publish within seconds, as a
// temporary error, instead of holding the caller until its own deadline.
const publishTimeout = 5 * time.Second

// kvContext bounds one key-value read or write as publishTimeout bounds a
// publish: a request sent as the server died, whose reply never comes,
// fails within seconds as a temporary error instead of holding its caller
// (a feed's round, a page's host slot) until the caller's own deadline.
func kvContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, publishTimeout)
}

// bodyTimeout bounds putting or getting a payload of n bytes in
// BucketBodies: it is sent in many chunks, so it gets half a minute and
// two seconds per MiB, which a busy machine's disk keeps well within.
func bodyTimeout(n int) time.Duration { return 30*time.Second + time.Duration(n>>20)*2*time.Second }

// Publish publishes data on subject with Nats-Msg-Id msgID, so that
// JetStream drops a repeat within its duplicate window. It returns once the
// stream has stored the message. A payload larger than the server's
// max_payload is kept in the BucketBodies object store and the message
// carries a reference to it.
func (b *Bus) Publish(ctx context.Context, subject, msgID string, data []byte) error {
	return b.publish(ctx, &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}, msgID)
}

func (b *Bus) publish(ctx context.Context, m *nats.Msg, msgID string) error {
	if max := b.nc.MaxPayload(); int64(len(m.Data)) > max-headroom {
		name, err := b.putBody(ctx, msgID, m.Data)
		if err != nil {
			return err
		}
		m.Header.Set(HeaderPayloadObject, name)
		m.Data = nil
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	pctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if _, err := b.js.PublishMsg(pctx, m, opts...); err != nil {
		if ctx.Err() == nil && pctx.Err() != nil {
			err = fmt.Errorf("no acknowledgement within %s: %w", publishTimeout, err)
		}
		return temporary(fmt.Errorf("bus: publish to %s: %w", m.Subject, err))
	}
	return nil
}

// putBody stores a large payload under a name derived from its content, so
// that a repeated publish overwrites rather than adds.
func (b *Bus) putBody(ctx context.Context, msgID string, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	name := hex.EncodeToString(sum[:])
	if msgID != "" {
		name = msgID + "-" + name[:16]
	}
	ctx, cancel := context.WithTimeout(ctx, bodyTimeout(len(data)))
	defer cancel()
	if _, err := b.bodies.PutBytes(ctx, name, data); err != nil {
		return "", temporary(fmt.Errorf("bus: store %d-byte payload as %s/%s: %w", len(data), BucketBodies, name, err))
	}
	return name, nil
}

// payload returns a message's payload, fetching it from BucketBodies when
// the message carries a reference.
func (b *Bus) payload(ctx context.Context, m jetstream.Msg) ([]byte, error) {
	name := m.Headers().Get(HeaderPayloadObject)
	if name == "" {
		return m.Data(), nil
	}
	// The size is not known before the get: allow for a large page.
	ctx, cancel := context.WithTimeout(ctx, bodyTimeout(25<<20))
	defer cancel()
	data, err := b.getBody(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		// In a cluster a replica that lags the put can answer first: not
		// found is retried like any unclassified error, and parked only
		// after MaxDeliver deliveries.
		return nil, fmt.Errorf("bus: payload object %s/%s of %s not found: %w", BucketBodies, name, m.Subject(), err)
	}
	if err != nil {
		return nil, temporary(fmt.Errorf("bus: fetch payload object %s/%s: %w", BucketBodies, name, err))
	}
	return data, nil
}

// getBody reads the object name into a buffer of its size, so that a large
// page is not copied again and again into a growing one. It reads to the
// end, where the object's digest is checked.
func (b *Bus) getBody(ctx context.Context, name string) ([]byte, error) {
	r, err := b.bodies.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	info, err := r.Info()
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, int(info.Size)+bytes.MinRead))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
