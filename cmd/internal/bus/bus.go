// Package bus is newsflow's one door to NATS: it connects (to an embedded
// server or an external one), defines the streams, consumers, subjects and
// key-value buckets, publishes with Nats-Msg-Id, and runs the consume loop
// that turns a handler's error class into ack, nak with delay, or term.
package bus
