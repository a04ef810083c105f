package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// cmdHealthcheck asks a status server whether it is ready and returns an
// error unless it answers 200: the container health check of an image that
// has no shell or HTTP client of its own.
func cmdHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "URL to ask (default http://127.0.0.1:PORT/readyz, PORT from $NEWSFLOW_HTTP)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected argument %q", fs.Arg(0))
	}
	if *url == "" {
		u, err := readyURL(os.Getenv("NEWSFLOW_HTTP"))
		if err != nil {
			return err
		}
		*url = u
	}
	if *timeout <= 0 {
		return fmt.Errorf("--timeout: %s must be positive", *timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s: %s", *url, resp.Status, msg)
	}
	fmt.Fprintln(stdout, msg)
	return nil
}

// readyURL is the /readyz URL of the status server that listens on addr (a
// --http value such as "8080" or ":8080"), asked on the loopback interface.
func readyURL(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("healthcheck: no status server to ask: set $NEWSFLOW_HTTP (e.g. 8080) or give --url")
	}
	host, port, err := net.SplitHostPort(listenAddr(addr))
	if err != nil {
		return "", fmt.Errorf("$NEWSFLOW_HTTP: %q is not host:port: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
