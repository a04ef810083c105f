package api

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// MinTokenLength is the shortest API token accepted.
const MinTokenLength = 16

// TokenFromEnv returns the API token from $NEWSFLOW_API_TOKEN, or from the
// file that $NEWSFLOW_API_TOKEN_FILE names (surrounding white space
// trimmed), or "" when neither is set. lookup is os.LookupEnv in the
// binary.
func TokenFromEnv(lookup func(string) (string, bool)) (string, error) {
	token, inline := lookup("NEWSFLOW_API_TOKEN")
	file, fromFile := lookup("NEWSFLOW_API_TOKEN_FILE")
	name := "$NEWSFLOW_API_TOKEN"
	switch {
	case inline && fromFile:
		return "", fmt.Errorf("$NEWSFLOW_API_TOKEN and $NEWSFLOW_API_TOKEN_FILE are both set: set one")
	case fromFile:
		name = "$NEWSFLOW_API_TOKEN_FILE"
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		token = string(b)
	case !inline:
		return "", nil
	}
	token = strings.TrimSpace(token)
	if len(token) < MinTokenLength {
		return "", fmt.Errorf("%s: the API token is shorter than %d characters", name, MinTokenLength)
	}
	return token, nil
}

// CheckAddr returns an error unless a server may listen on addr
// (host:port): on a loopback address it always may, on any other only with
// a token, which the API then asks of every request.
func CheckAddr(addr, token string) error {
	if token != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("address %q is not a loopback address: listening there needs an API token ($NEWSFLOW_API_TOKEN or $NEWSFLOW_API_TOKEN_FILE), or listen on 127.0.0.1", addr)
}
