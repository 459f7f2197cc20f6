package gateway

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// DefaultAccessURL is the URL clients are told to use when none is
// configured: the HTTP listener's address, https when it serves TLS. An
// unspecified host (":8080", "0.0.0.0") becomes this machine's host name,
// the best guess without --access-url.
func DefaultAccessURL(addr net.Addr, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// checkAccessURL validates a configured access URL and returns it without
// a trailing slash.
func checkAccessURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("access URL %q: %w", raw, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("access URL %q: scheme must be http or https", raw)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("access URL %q: no host", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("access URL %q: must not carry user info, a query or a fragment", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
