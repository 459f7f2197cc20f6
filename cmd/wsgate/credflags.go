package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgate/wsgate/gateway/httpapi"
)

// defaultMetricsAddr is where `wsgate server` serves /metrics: loopback,
// not the public port.
const defaultMetricsAddr = "127.0.0.1:9464"

// registerCredentials adds the server's flags for revoked keys, token
// lifetimes and the metrics port.
func (f *serverFlags) registerCredentials(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.revokedKeysFile, "revoked-keys", "", "OpenSSH revoked-keys file (plain text, one public key or certificate per line): those keys and their certificates are refused, and live sessions made with them dropped when the file changes")
	fl.StringVar(&f.metricsAddr, "metrics-addr", defaultMetricsAddr, "serve Prometheus metrics at http://ADDR/metrics, on a listener of their own (\"\": not served)")
	fl.DurationVar(&f.maxTokenLifetime, "max-token-lifetime", httpapi.DefaultMaxTokenLifetime, "longest lifetime of an API token (tokens asked for without an expiry get it; 0: no limit)")
	f.credFlags = true
}

// tokenLifetime is --max-token-lifetime as the API takes it (negative: no
// limit).
func (f *serverFlags) tokenLifetime() time.Duration {
	switch {
	case !f.credFlags && f.maxTokenLifetime == 0:
		// wsgate dev registers none of these flags: the default applies.
		return httpapi.DefaultMaxTokenLifetime
	case f.maxTokenLifetime <= 0:
		return -1
	}
	return f.maxTokenLifetime
}

// listenMetrics binds --metrics-addr (nil when empty or not a flag).
func (f *serverFlags) listenMetrics() (net.Listener, error) {
	if !f.credFlags || f.metricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", f.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen metrics %s: %w", f.metricsAddr, err)
	}
	return ln, nil
}
