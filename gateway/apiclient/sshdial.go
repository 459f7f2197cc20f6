package apiclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wsgate/wsgate/gateway/httpapi"
)

// DialSSH opens an SSH connection to the gateway's front door through an
// HTTP Upgrade on the API port (httpapi.SSHUpgradePath), authenticated by
// the client's API token; TLS when the URL is https. The returned conn
// carries the SSH protocol; the gateway binds it to the token's user, so
// the SSH client may authenticate with "none". ctx bounds the dial and the
// upgrade, not the connection. A refusal is an *Error with the gateway's
// status and message.
func (c *Client) DialSSH(ctx context.Context) (net.Conn, error) {
	u := c.URL()
	u.Path = strings.TrimRight(u.Path, "/") + httpapi.SSHUpgradePath
	u.RawPath = ""
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial gateway %s: %w", addr, err)
	}
	// Cancelling ctx aborts the exchange below, blocked or not.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	sc, err := c.upgradeSSH(ctx, conn, u.String(), u.Hostname(), u.Scheme == "https")
	if !stop() && err == nil {
		err = fmt.Errorf("ssh upgrade: %w", context.Cause(ctx))
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return sc, nil
}

func (c *Client) upgradeSSH(ctx context.Context, conn net.Conn, url, host string, useTLS bool) (net.Conn, error) {
	if useTLS {
		cfg := &tls.Config{}
		if t, ok := c.http.Transport.(*http.Transport); ok && t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"http/1.1"} // HTTP/2 has no Upgrade
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls handshake with %s: %w", host, err)
		}
		conn = tc
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return nil, fmt.Errorf("build ssh upgrade request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", httpapi.SSHUpgradeProtocol)
	req.Header.Set("User-Agent", "wsgate-cli")
	if err := req.Write(conn); err != nil {
		return nil, fmt.Errorf("send ssh upgrade request: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, fmt.Errorf("read ssh upgrade answer: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		e := &Error{StatusCode: resp.StatusCode}
		var body httpapi.Error
		if data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10)); err == nil && json.Unmarshal(data, &body) == nil {
			e.Message, e.Validations = body.Message, body.Validations
		}
		return nil, e
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), httpapi.SSHUpgradeProtocol) {
		return nil, fmt.Errorf("gateway switched to %q, want %q", resp.Header.Get("Upgrade"), httpapi.SSHUpgradeProtocol)
	}
	_ = conn.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		// The SSH banner may have arrived with the 101.
		return &bufferedConn{Conn: conn, r: io.MultiReader(io.LimitReader(br, int64(br.Buffered())), conn)}, nil
	}
	return conn, nil
}

// bufferedConn reads what the response parser buffered before the rest.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// CloseWrite half-closes the connection when it can (TCP, TLS), so that
// `wsgate ssh --stdio` passes its stdin's EOF on.
func (c *bufferedConn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return nil
}
