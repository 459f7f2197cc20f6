package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wsgate/wsgate/internal/upgrade"
)

// dialTimeout bounds dialing, TLS and the upgrade exchange.
const dialTimeout = 30 * time.Second

// errUnauthorized is returned (wrapped) when the gateway answers 401.
var errUnauthorized = errors.New("gateway rejected the agent token")

// endpoint is the checked connect URL.
type endpoint struct {
	url  *url.URL    // ConnectPath on the gateway, without user info
	base string      // the gateway URL as the agent signs it: scheme://host/path, no trailing slash
	tls  *tls.Config // the caller's, for https; upgrade.Dial clones it
}

func parseEndpoint(raw string, tlsConfig *tls.Config) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("gateway url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoint{}, fmt.Errorf("gateway url %q: scheme must be http or https", u.Redacted())
	}
	if u.Hostname() == "" {
		return endpoint{}, fmt.Errorf("gateway url %q: no host", u.Redacted())
	}
	cu := *u
	cu.User = nil
	cu.RawQuery, cu.Fragment = "", ""
	cu.Path = strings.TrimSuffix(u.Path, "/") + ConnectPath
	cu.RawPath = ""
	bu := cu
	bu.Path = strings.TrimSuffix(u.Path, "/")
	return endpoint{url: &cu, base: bu.String(), tls: tlsConfig}, nil
}

// dial connects to the gateway and performs the upgrade. The returned conn
// carries the tunnel.
func dial(ctx context.Context, ep endpoint, token string, extra http.Header) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	h := http.Header{VersionHeader: {strconv.Itoa(ProtocolVersion)}}
	for k, vs := range extra {
		h[k] = vs
	}
	conn, err := upgrade.Dial(ctx, upgrade.DialConfig{
		URL:       ep.url.String(),
		Protocol:  UpgradeProtocol,
		Token:     token,
		UserAgent: "wsgate-agent",
		Header:    h,
		TLS:       ep.tls,
	})
	var refused *upgrade.ResponseError
	switch {
	case errors.As(err, &refused) && refused.StatusCode == http.StatusUnauthorized && refused.Header.Get("WWW-Authenticate") != "" && isChallenge(refused.Header):
		// A nonce for a signed upgrade: the caller reads it.
		return nil, err
	case errors.As(err, &refused) && refused.StatusCode == http.StatusUnauthorized:
		return nil, fmt.Errorf("%w (HTTP 401)", errUnauthorized)
	case errors.As(err, &refused) && refused.Header.Get(VersionHeader) != "" && !sameVersion(refused.Header):
		// Only an answer that names a version says so: without one, the
		// refusal may come from a proxy in front of the gateway.
		return nil, gatewayMismatch(refused.Header)
	case errors.As(err, &refused):
		msg := refused.Body[:min(len(refused.Body), 256)]
		return nil, fmt.Errorf("gateway answered %s: %q", refused.Status, strings.TrimSpace(string(msg)))
	case err != nil:
		return nil, fmt.Errorf("gateway: %w", err)
	}
	// A 101 without a version is a v1 gateway, which would not understand
	// what this agent says on the tunnel.
	uc, ok := conn.(*upgrade.Conn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("gateway: upgrade gave a %T, not an *upgrade.Conn", conn)
	}
	if !sameVersion(uc.ResponseHeader()) {
		_ = conn.Close()
		return nil, gatewayMismatch(uc.ResponseHeader())
	}
	return conn, nil
}

// sameVersion reports whether h says the peer speaks ProtocolVersion.
func sameVersion(h http.Header) bool {
	v, ok := peerVersion(h)
	return ok && v == ProtocolVersion
}
