package sshfront

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// bindIdentity makes conf accept the client as id, whatever it offers.
// Offered keys still have to be proven (x/crypto checks the signature), but
// they do not say who the client is.
func bindIdentity(conf *ssh.ServerConfig, id identity) {
	conf.NoClientAuth = true
	conf.NoClientAuthCallback = func(ssh.ConnMetadata) (*ssh.Permissions, error) {
		return id.verifiedPermissions(), nil
	}
	conf.PublicKeyCallback = func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
		return id.permissions(nil), nil
	}
	conf.VerifiedPublicKeyCallback = func(ssh.ConnMetadata, ssh.PublicKey, *ssh.Permissions, string) (*ssh.Permissions, error) {
		return id.verifiedPermissions(), nil
	}
}

// UpgradeHandler serves POST apitypes.SSHUpgradePath: SSH over HTTP(S) for
// networks where only HTTPS passes and for `wsgate ssh --stdio` as an
// OpenSSH ProxyCommand. It authenticates the bearer API token, answers 101
// and serves one SSH connection bound to the token's user.
func (s *Server) UpgradeHandler() http.Handler {
	return http.HandlerFunc(s.serveUpgrade)
}

func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	remote := r.RemoteAddr
	if !upgrade.Requested(r, apitypes.SSHUpgradeProtocol) {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", apitypes.SSHUpgradeProtocol)
		apitypes.WriteError(w, http.StatusUpgradeRequired, "upgrade to "+apitypes.SSHUpgradeProtocol+" required")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HandshakeTimeout)
	secret, _ := upgrade.BearerToken(r.Header.Get("Authorization"))
	id, err := s.cfg.Access.IdentifyToken(ctx, secret)
	cancel()
	switch {
	case errors.Is(err, access.ErrBadToken):
		s.log.Info("ssh over https: authentication failed", "remote", remote)
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
		apitypes.WriteError(w, http.StatusUnauthorized, access.ErrBadToken.Error())
		return
	case err != nil:
		s.log.Error("ssh over https: token lookup failed", "remote", remote, "err", err)
		apitypes.WriteError(w, http.StatusServiceUnavailable, "cannot check the API token right now; try again later")
		return
	}
	if s.isClosed() {
		apitypes.WriteError(w, http.StatusServiceUnavailable, "the gateway is shutting down")
		return
	}
	// The slot is taken before the 101, so that a refused client hears why.
	release, ok := s.preauth.admit(poolHTTPS, remote)
	if !ok {
		w.Header().Set("Retry-After", "5")
		apitypes.WriteError(w, http.StatusServiceUnavailable, "too many SSH connections being set up; try again later")
		return
	}
	defer release()
	conn, err := upgrade.Accept(w, apitypes.SSHUpgradeProtocol)
	if err != nil {
		s.log.Error("ssh over https: cannot take over the connection", "err", err)
		apitypes.WriteError(w, http.StatusInternalServerError, "connection upgrade not supported")
		return
	}
	// The SSH server's own banner would send the 101 with it; sending it
	// now lets a client that waits for the 101 before its banner go on.
	if err := conn.Commit(); err != nil {
		s.log.Info("ssh over https: write 101", "remote", remote, "err", err)
		_ = conn.Close()
		return
	}
	s.log.Info("ssh over https: upgraded", "user", id.User, "token_id", id.TokenID, "remote", remote)
	// The session's address is the client's, as the HTTP side saw it
	// (behind a trusted proxy, the original one).
	s.serveConn(withRemoteAddr(conn, remote), &identity{Identity: id}, release)
}

// remoteConn is a connection that reports another peer address.
type remoteConn struct {
	net.Conn
	remote net.Addr
}

func (c *remoteConn) RemoteAddr() net.Addr { return c.remote }

// CloseWrite passes a half-close on when the connection can.
func (c *remoteConn) CloseWrite() error { return edge.CloseWrite(c.Conn) }

// withRemoteAddr makes conn report addr ("ip:port") as its peer; conn is
// returned as it is when addr does not parse.
func withRemoteAddr(conn net.Conn, addr string) net.Conn {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return conn
	}
	return &remoteConn{Conn: conn, remote: net.TCPAddrFromAddrPort(ap)}
}
