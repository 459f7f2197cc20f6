// Package apiclient is the Go client of wsgate's control API
// (gateway/httpapi), used by the CLI.
package apiclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/tlsconf"
)

// Client talks to one gateway as one user.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// Option changes a Client.
type Option func(*Client)

// WithHTTPClient replaces the default HTTP client (30 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTLSConfig sets the TLS settings of the client's HTTP transport (a
// private CA: see tlsconf.ClientConfig); DialSSH uses them too. Applied
// after WithHTTPClient it keeps that client and changes its transport copy.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *Client) {
		t, ok := c.http.Transport.(*http.Transport)
		if !ok {
			t = http.DefaultTransport.(*http.Transport)
		}
		t = t.Clone()
		t.TLSClientConfig = cfg
		h := *c.http
		h.Transport = t
		c.http = &h
	}
}

// New returns a client of the gateway at baseURL ("https://host:port"),
// authenticated by the API token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := ParseURL(baseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// ParseURL checks a gateway URL: http or https, a host, no query.
func ParseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil {
		return nil, fmt.Errorf("invalid gateway URL %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid gateway URL %q: expected http(s)://host[:port]", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid gateway URL %q: no query or fragment expected", s)
	}
	return u, nil
}

// CloseIdleConnections closes the HTTP transport's idle connections (a
// long-lived process, tests).
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// URL returns the gateway's base URL.
func (c *Client) URL() *url.URL { u := *c.base; return &u }

// Error is an error answer of the API.
type Error struct {
	StatusCode  int
	Message     string
	Validations []apitypes.Validation
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("gateway answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	return e.Message
}

// StatusCode returns the HTTP status of an API error, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// path joins escaped segments under /api/v1.
func path(segments ...string) string {
	var b strings.Builder
	b.WriteString("/api/v1")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends one request; in (may be nil) is the JSON body, out (may be nil)
// receives the JSON answer.
func (c *Client) do(ctx context.Context, method, p string, query url.Values, in, out any) error {
	u := *c.base
	u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + p
	unescaped, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return fmt.Errorf("build request path: %w", err)
	}
	u.Path = unescaped
	u.RawQuery = query.Encode()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// Certificate and scheme mistakes get a plain word on what to do.
		return tlsconf.Explain(fmt.Errorf("%s %s: %w", method, p, err))
	}
	defer resp.Body.Close()
	// Answers are small; the limit guards against a wrong URL serving a
	// huge page.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, p, err)
	}
	if tlsconf.IsHTTPToTLSAnswer(resp.StatusCode, data) {
		return tlsconf.Explain(fmt.Errorf("%s %s: %w", method, p, tlsconf.ErrHTTPToTLS))
	}
	if resp.StatusCode >= 300 {
		e := &Error{StatusCode: resp.StatusCode}
		var body apitypes.Error
		if json.Unmarshal(data, &body) == nil {
			e.Message, e.Validations = body.Message, body.Validations
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, p, err)
	}
	return nil
}
