package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/newsflow/newsflow/cmd/internal/bus"
	"github.com/newsflow/newsflow/ingest"
)

// cmdParked lists parked messages, or sends them back to their stage.
func cmdParked(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: newsflow parked list|retry [--data DIR | --nats URL] [--allow-private-networks] [--all | SEQ...]"
	if len(args) == 0 || (args[0] != "list" && args[0] != "retry") {
		return fmt.Errorf("parked: %s", use)
	}
	fs := flag.NewFlagSet("parked "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &envFlags{fs: fs}
	var dataDir, natsURL, creds string
	e.str(&dataDir, "data", "NEWSFLOW_DATA", "newsflow-data", "data folder of the embedded NATS server")
	e.secret(&natsURL, "nats", "NATS_URL", "external NATS server URL(s)")
	e.str(&creds, "nats-creds", "NATS_CREDS", "", "NATS credentials file for --nats")
	var allowPrivate bool
	e.boolean(&allowPrivate, "allow-private-networks", "NEWSFLOW_ALLOW_PRIVATE_NETWORKS", false, "allow fetching again from private-network and loopback addresses")
	var userAgent string
	e.str(&userAgent, "user-agent", "NEWSFLOW_USER_AGENT", defaultUserAgent(), "User-Agent of the pages fetched again: product/version and a contact URL")
	var replicas int
	e.replicas(&replicas)
	all := fs.Bool("all", false, "retry every parked message")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	bad := append(e.errs, checkReplicas(replicas)...)
	if err := ingest.CheckUserAgent(userAgent); err != nil {
		bad = append(bad, fmt.Errorf("--user-agent: %w", err))
	}
	if len(bad) > 0 {
		return joinLines(bad)
	}
	var seqs []uint64
	for _, a := range fs.Args() {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return fmt.Errorf("parked: %q is not a parked message's sequence number", a)
		}
		seqs = append(seqs, n)
	}
	if args[0] == "retry" && !*all && len(seqs) == 0 {
		return fmt.Errorf("parked retry: name the messages by sequence number, or give --all")
	}
	b, err := bus.Connect(ctx, bus.Options{URL: natsURL, Creds: creds, DataDir: dataDir, Join: true, Replicas: replicas, Name: "newsflow parked",
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	defer b.Close()
	if args[0] == "list" {
		enc := json.NewEncoder(stdout)
		return b.EachParked(ctx, func(p bus.Parked) error { return enc.Encode(p) })
	}
	if *all {
		if err := b.EachParked(ctx, func(p bus.Parked) error { seqs = append(seqs, p.Seq); return nil }); err != nil {
			return err
		}
	}
	refetch := refetcher(ingest.NewClient(ingest.ClientOptions{AllowPrivateNetworks: allowPrivate, UserAgent: userAgent}))
	// One message that cannot go back (its page still fails) stays parked
	// and does not keep the others from going.
	var errs []error
	for _, seq := range seqs {
		if err := b.RetryParked(ctx, seq, func(subject string, data []byte) ([]byte, error) {
			return refetch(ctx, subject, data)
		}); err != nil {
			if ctx.Err() != nil {
				return err
			}
			errs = append(errs, err)
		}
	}
	fmt.Fprintf(stdout, "%d parked messages sent back to their stage\n", len(seqs)-len(errs))
	if len(errs) > 0 {
		return fmt.Errorf("parked retry: %d of %d stay parked:\n  %w", len(errs), len(seqs), errors.Join(errs...))
	}
	return nil
}

// refetcher returns how `parked retry` renews a parked message: a raw
// article published with its page's fetch error has its page fetched again
// with c (a page that still fails leaves it parked, with the new error);
// any other message goes back as it is.
func refetcher(c *ingest.Client) func(ctx context.Context, subject string, data []byte) ([]byte, error) {
	return func(ctx context.Context, subject string, data []byte) ([]byte, error) {
		if !strings.HasPrefix(subject, bus.RawSubject("")) {
			return data, nil
		}
		raw, err := ingest.DecodeRaw(data)
		if err != nil || !ingest.FetchFailed(raw) {
			return data, nil // the processor judges it again
		}
		fresh, err := ingest.Refetch(ctx, c, raw)
		if err != nil {
			return nil, fmt.Errorf("the page still cannot be fetched: %w", err)
		}
		return ingest.EncodeRaw(fresh)
	}
}
