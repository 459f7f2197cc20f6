package sshfront

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// ServeConnAs serves one SSH connection whose user is already known, and
// blocks until it is done. The client may authenticate with "none" or with
// any key; either way the connection is id's, so a key of another user
// changes nothing. Everything after authentication (target, Authorize,
// proxy, refusals) is ServeConn's.
func (s *Server) ServeConnAs(conn net.Conn, id acl.Identity) {
	s.serveConn(conn, &identity{Identity: id})
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

// UpgradeHandler serves POST httpapi.SSHUpgradePath: SSH over HTTP(S) for
// networks where only HTTPS passes and for `wsgate ssh --stdio` as an
// OpenSSH ProxyCommand. It authenticates the bearer API token, answers 101
// and serves one SSH connection bound to the token's user (ServeConnAs).
func (s *Server) UpgradeHandler() http.Handler {
	return http.HandlerFunc(s.serveUpgrade)
}

func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	remote := r.RemoteAddr
	if !upgrade.HeaderHas(r.Header, "Upgrade", httpapi.SSHUpgradeProtocol) || !upgrade.HeaderHas(r.Header, "Connection", "upgrade") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", httpapi.SSHUpgradeProtocol)
		writeAPIError(w, http.StatusUpgradeRequired, "upgrade to "+httpapi.SSHUpgradeProtocol+" required")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HandshakeTimeout)
	id, err := s.cfg.Access.IdentifyToken(ctx, r.Header.Get("Authorization"))
	cancel()
	switch {
	case errors.Is(err, access.ErrBadToken):
		s.log.Info("ssh over https: authentication failed", "remote", remote)
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
		writeAPIError(w, http.StatusUnauthorized, access.ErrBadToken.Error())
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

// writeAPIError answers with the control API's error body, so that clients
// read every refusal the same way.
func writeAPIError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apitypes.Error{Message: msg})
}

// prereadConn reads first what the HTTP server had already buffered.
type prereadConn struct {
	net.Conn
	r io.Reader
}

func (c *prereadConn) Read(p []byte) (int, error) { return c.r.Read(p) }
