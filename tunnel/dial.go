package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// dialTimeout bounds dialing, TLS and the upgrade exchange.
const dialTimeout = 30 * time.Second

// errUnauthorized is returned (wrapped) when the gateway answers 401.
var errUnauthorized = errors.New("gateway rejected the agent token")

// endpoint is the parsed connect URL.
type endpoint struct {
	url     *url.URL // ConnectPath on the gateway
	address string   // host:port to dial
	tls     *tls.Config
}

func parseEndpoint(raw string, tlsConfig *tls.Config) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("gateway url: %w", err)
	}
	var port string
	switch u.Scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	default:
		return endpoint{}, fmt.Errorf("gateway url %q: scheme must be http or https", u.Redacted())
	}
	if u.Hostname() == "" {
		return endpoint{}, fmt.Errorf("gateway url %q: no host", u.Redacted())
	}
	if u.Port() != "" {
		port = u.Port()
	}
	ep := endpoint{address: net.JoinHostPort(u.Hostname(), port)}
	cu := *u
	cu.User = nil
	cu.RawQuery, cu.Fragment = "", ""
	cu.Path = strings.TrimSuffix(u.Path, "/") + ConnectPath
	cu.RawPath = ""
	ep.url = &cu
	if u.Scheme == "https" {
		c := &tls.Config{}
		if tlsConfig != nil {
			c = tlsConfig.Clone()
		}
		if c.ServerName == "" {
			c.ServerName = u.Hostname()
		}
		c.NextProtos = []string{"http/1.1"} // Upgrade does not exist in HTTP/2
		ep.tls = c
	}
	return ep, nil
}

// dial connects to the gateway and performs the upgrade. The returned conn
// carries the tunnel.
func dial(ctx context.Context, ep endpoint, token string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", ep.address)
	if err != nil {
		return nil, fmt.Errorf("dial gateway: %w", err)
	}
	tc, err := upgrade(ctx, conn, ep, token)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

func upgrade(ctx context.Context, conn net.Conn, ep endpoint, token string) (net.Conn, error) {
	// Cancelling ctx aborts any blocked read or write below.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(pastDeadline) })
	tc, err := upgradeConn(ctx, conn, ep, token)
	if !stop() {
		return nil, fmt.Errorf("upgrade: %w", context.Cause(ctx))
	}
	if err != nil {
		return nil, err
	}
	return tc, nil
}

func upgradeConn(ctx context.Context, conn net.Conn, ep endpoint, token string) (net.Conn, error) {
	if ep.tls != nil {
		tlsConn := tls.Client(conn, ep.tls)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		conn = tlsConn
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", UpgradeProtocol)
	req.Header.Set("User-Agent", "wsgate-agent")
	bw := bufio.NewWriter(conn)
	if err := req.Write(bw); err != nil {
		return nil, fmt.Errorf("write upgrade request: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write upgrade request: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("read upgrade response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, fmt.Errorf("%w (HTTP 401)", errUnauthorized)
		}
		return nil, fmt.Errorf("gateway answered %s: %q", resp.Status, strings.TrimSpace(string(msg)))
	}
	if !headerHasToken(resp.Header, "Upgrade", UpgradeProtocol) {
		return nil, fmt.Errorf("gateway answered 101 with Upgrade %q, want %q",
			resp.Header.Get("Upgrade"), UpgradeProtocol)
	}
	// The gateway may send tunnel bytes right behind the 101; they sit in br.
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}
