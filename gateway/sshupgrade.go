package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/httpapi"
)

// Identity is who a connection belongs to before its SSH handshake starts:
// the user of the API token that opened it over HTTPS.
type Identity struct {
	User    string
	TokenID string // recorded on the session, so revoking the token can find it
}

// ServeConnAs serves one SSH connection whose user is already known, and
// blocks until it is done. The client may authenticate with "none" or with
// any key; either way the connection is id's, so a key of another user
// changes nothing. Everything after authentication (target, Authorize,
// proxy, refusals) is ServeConn's.
func (s *SSHServer) ServeConnAs(conn net.Conn, id Identity) {
	s.serveConn(conn, &identity{User: id.User, TokenID: id.TokenID})
}

// bindIdentity makes conf accept the client as id, whatever it offers.
// Offered keys still have to be proven (x/crypto checks the signature), but
// they do not say who the client is.
func bindIdentity(conf *ssh.ServerConfig, id identity) {
	conf.NoClientAuth = true
	conf.NoClientAuthCallback = func(ssh.ConnMetadata) (*ssh.Permissions, error) {
		return id.permissions(nil), nil
	}
	conf.PublicKeyCallback = func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
		return id.permissions(nil), nil
	}
}

// upgradeResponse is the whole 101 answer, written by hand on the hijacked
// connection.
const upgradeResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Connection: Upgrade\r\n" +
	"Upgrade: " + httpapi.SSHUpgradeProtocol + "\r\n\r\n"

// errBadToken is every authentication failure: a missing, unknown or
// expired token and a suspended or deleted user all look the same.
var errBadToken = errors.New("unauthorized: missing, invalid or expired API token")

// UpgradeHandler serves POST httpapi.SSHUpgradePath: SSH over HTTP(S) for
// networks where only HTTPS passes and for `wsgate ssh --stdio` as an
// OpenSSH ProxyCommand. It authenticates the bearer API token, answers 101
// and serves one SSH connection bound to the token's user (ServeConnAs).
func (s *SSHServer) UpgradeHandler() http.Handler {
	return http.HandlerFunc(s.serveUpgrade)
}

func (s *SSHServer) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	remote := r.RemoteAddr
	if !headerHas(r.Header, "Upgrade", httpapi.SSHUpgradeProtocol) || !headerHas(r.Header, "Connection", "upgrade") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", httpapi.SSHUpgradeProtocol)
		writeAPIError(w, http.StatusUpgradeRequired, "upgrade to "+httpapi.SSHUpgradeProtocol+" required")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HandshakeTimeout)
	id, err := s.tokenIdentity(ctx, r.Header.Get("Authorization"))
	cancel()
	switch {
	case errors.Is(err, errBadToken):
		s.log.Info("ssh over https: authentication failed", "remote", remote)
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
		writeAPIError(w, http.StatusUnauthorized, errBadToken.Error())
		return
	case err != nil:
		s.log.Error("ssh over https: token lookup failed", "remote", remote, "err", err)
		writeAPIError(w, http.StatusServiceUnavailable, "cannot check the API token right now; try again later")
		return
	}
	if s.isClosed() {
		writeAPIError(w, http.StatusServiceUnavailable, "the gateway is shutting down")
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.log.Error("ssh over https: cannot hijack the connection", "err", err)
		writeAPIError(w, http.StatusInternalServerError, "connection upgrade not supported")
		return
	}
	// The HTTP server's timeouts must not cut a long SSH session; the SSH
	// server sets its own handshake deadline.
	_ = conn.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	if _, err := io.WriteString(conn, upgradeResponse); err != nil {
		s.log.Info("ssh over https: write 101", "remote", remote, "err", err)
		_ = conn.Close()
		return
	}
	_ = conn.SetDeadline(time.Time{})
	s.log.Info("ssh over https: upgraded", "user", id.User, "token_id", id.TokenID, "remote", remote)
	var c net.Conn = conn
	if brw.Reader.Buffered() > 0 {
		// The client may have sent its SSH banner right behind the request.
		c = &prereadConn{Conn: conn, r: io.MultiReader(io.LimitReader(brw.Reader, int64(brw.Reader.Buffered())), conn)}
	}
	s.ServeConnAs(c, id)
}

// tokenIdentity resolves an "Authorization: Bearer <token>" value to the
// token's active user; errBadToken for every reason it is not one.
func (s *SSHServer) tokenIdentity(ctx context.Context, authz string) (Identity, error) {
	secret, ok := httpapi.BearerToken(authz)
	if !ok {
		return Identity{}, errBadToken
	}
	// Through the authorizer's lookups, so that during a store outage a
	// token seen recently still works for the grace, as keys do.
	st := s.hooks().authz.lookups(nil)
	tok, err := st.TokenByHash(ctx, acl.HashToken(secret))
	if errors.Is(err, acl.ErrNotFound) {
		return Identity{}, errBadToken
	}
	if err != nil {
		return Identity{}, fmt.Errorf("look up token: %w", err)
	}
	if !tok.ExpiresAt.IsZero() && !s.cfg.Now().Before(tok.ExpiresAt) {
		return Identity{}, errBadToken
	}
	u, err := st.GetUser(ctx, tok.User)
	if errors.Is(err, acl.ErrNotFound) {
		return Identity{}, errBadToken
	}
	if err != nil {
		return Identity{}, fmt.Errorf("look up user of token: %w", err)
	}
	if u.Suspended {
		return Identity{}, errBadToken
	}
	return Identity{User: u.Name, TokenID: tok.ID}, nil
}

// writeAPIError answers with the control API's error body, so that clients
// read every refusal the same way.
func writeAPIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(httpapi.Error{Message: msg})
}

// headerHas reports whether the comma-separated values of header name
// contain want, ignoring case.
func headerHas(h http.Header, name, want string) bool {
	for _, v := range h.Values(name) {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), want) {
				return true
			}
		}
	}
	return false
}

// prereadConn reads first what the HTTP server had already buffered.
type prereadConn struct {
	net.Conn
	r io.Reader
}

func (c *prereadConn) Read(p []byte) (int, error) { return c.r.Read(p) }
