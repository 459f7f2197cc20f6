package upgrade

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxErrorBody bounds the body of a refusal that Dial keeps.
const maxErrorBody = 64 << 10

// DialConfig says where and how Dial upgrades.
type DialConfig struct {
	URL       string      // http:// or https://; the request's target
	Protocol  string      // the Upgrade protocol asked for and expected back
	Token     string      // sent as "Authorization: Bearer <Token>" when not empty
	UserAgent string      // the User-Agent header
	Header    http.Header // more request headers; the ones above win
	// TLS is for https URLs; cloned, ServerName defaults to the URL's host
	// and NextProtos is forced to http/1.1 (HTTP/2 has no Upgrade).
	TLS    *tls.Config
	Dialer *net.Dialer // default: 30 s TCP keep-alive
}

// ResponseError is an answer other than the 101 asked for.
type ResponseError struct {
	StatusCode int
	Status     string // "403 Forbidden"
	Header     http.Header
	Body       []byte // at most 64 KiB
}

func (e *ResponseError) Error() string {
	msg := strings.TrimSpace(string(e.Body))
	if len(msg) > 256 {
		msg = msg[:256] + "…"
	}
	return fmt.Sprintf("upgrade refused: %s: %q", e.Status, msg)
}

// Dial connects to cfg.URL, with TLS for https, and POSTs an upgrade to
// cfg.Protocol. On a 101 naming that protocol it returns the connection;
// bytes the server sent right behind the 101 are read first, and CloseWrite
// half-closes. Any other status is a *ResponseError. ctx bounds the dial,
// the TLS handshake and the exchange (cancelling it aborts them), not the
// returned connection. The connection is a *Conn; its ResponseHeader holds
// the 101's header fields.
func Dial(ctx context.Context, cfg DialConfig) (net.Conn, error) {
	if err := validProtocol(cfg.Protocol); err != nil {
		return nil, err
	}
	u, addr, err := target(cfg.URL)
	if err != nil {
		return nil, err
	}
	d := cfg.Dialer
	if d == nil {
		d = &net.Dialer{KeepAlive: 30 * time.Second}
	}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("upgrade: %w", err)
	}
	// Cancelling ctx wakes any blocked read or write below.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	c, err := exchange(ctx, raw, u, cfg)
	if !stop() {
		// The deadline is in the past now, whatever the exchange did.
		err = fmt.Errorf("upgrade %s: %w", u.Redacted(), context.Cause(ctx))
	}
	if err != nil {
		_ = raw.Close()
		return nil, err
	}
	return c, nil
}

// target parses rawURL and returns the request URL and the address to dial.
func target(rawURL string) (*url.URL, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("upgrade url: %w", err)
	}
	port := "80"
	switch u.Scheme {
	case "http":
	case "https":
		port = "443"
	default:
		return nil, "", fmt.Errorf("upgrade url %q: scheme must be http or https", u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, "", fmt.Errorf("upgrade url %q: no host", u.Redacted())
	}
	if u.Port() != "" {
		port = u.Port()
	}
	cu := *u
	cu.User, cu.Fragment = nil, "" // never sent
	return &cu, net.JoinHostPort(u.Hostname(), port), nil
}

func exchange(ctx context.Context, conn net.Conn, u *url.URL, cfg DialConfig) (*Conn, error) {
	if u.Scheme == "https" {
		tc := &tls.Config{}
		if cfg.TLS != nil {
			tc = cfg.TLS.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = u.Hostname()
		}
		tc.NextProtos = []string{"http/1.1"}
		tlsConn := tls.Client(conn, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("tls handshake with %s: %w", u.Host, err)
		}
		conn = tlsConn
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build upgrade request: %w", err)
	}
	for k, vs := range cfg.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", cfg.Protocol)
	if cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Token)
	}
	if cfg.UserAgent != "" {
		req.Header.Set("User-Agent", cfg.UserAgent)
	}
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
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		_ = resp.Body.Close()
		return nil, &ResponseError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, Body: body}
	}
	if !HeaderHas(resp.Header, "Upgrade", cfg.Protocol) {
		return nil, fmt.Errorf("server answered 101 with Upgrade %q, want %q", resp.Header.Get("Upgrade"), cfg.Protocol)
	}
	c := newConn(conn, br, nil)
	c.respHeader = resp.Header
	return c, nil
}
