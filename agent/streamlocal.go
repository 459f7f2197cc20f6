package agent

import (
	"log/slog"
	"net"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// Unix-socket forwarding (OpenSSH's streamlocal extensions) follows the TCP
// forwards: any socket the agent's OS user may reach (ssh -L PORT:SOCKET)
// or create (ssh -R SOCKET:HOST:PORT). Relative paths start in the
// workspace directory, like the sessions.

// socketPath resolves a client's socket path against the start directory.
func (c *userConn) socketPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.a.cfg.Dir, p)
}

// handleDirectStreamlocal serves ssh -L to a unix socket: dial it and
// relay with half-close.
func (c *userConn) handleDirectStreamlocal(nc *chanwire.NewChannel) {
	var d struct {
		SocketPath string
		Reserved0  string
		Reserved1  uint32
	}
	if err := gossh.Unmarshal(nc.ExtraData(), &d); err != nil || d.SocketPath == "" {
		_ = nc.Reject(chanwire.ConnectionFailed, "malformed direct-streamlocal request")
		return
	}
	path := c.socketPath(d.SocketPath)
	c.dialAndJoin(nc, "unix", path, c.chanLog("direct-streamlocal").With("socket", path))
}

type streamlocalRequest struct {
	SocketPath string
}

// handleStreamlocalForward serves ssh -R from a unix socket: listen on the
// path and hand each accepted connection to the client as a
// forwarded-streamlocal@openssh.com channel. An existing file is not
// replaced (sshd's StreamLocalBindUnlink no).
func (c *userConn) handleStreamlocalForward(payload []byte) bool {
	var r streamlocalRequest
	if err := gossh.Unmarshal(payload, &r); err != nil || r.SocketPath == "" {
		return false
	}
	path := c.socketPath(r.SocketPath)
	log := c.log.With("forward", path)
	ln, err := c.listenAsUser("unix", path)
	if err != nil {
		log.Info("streamlocal-forward listen failed", "err", err)
		return false
	}
	// Closing the listener removes the socket file: on cancel and when the
	// connection ends.
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	k := fwdKey{network: "unix", addr: r.SocketPath}
	if !c.fwd.add(k, ln) {
		_ = ln.Close()
		return false
	}
	if !c.work.goFn(func() { c.acceptStreamlocal(ln, r.SocketPath, log) }) {
		c.fwd.remove(k)
		_ = ln.Close()
		return false
	}
	log.Info("streamlocal-forward listening")
	return true
}

// handleCancelStreamlocalForward closes a listener, matched by the path as
// the client sent it, and removes its socket file.
func (c *userConn) handleCancelStreamlocalForward(payload []byte) bool {
	var r streamlocalRequest
	if err := gossh.Unmarshal(payload, &r); err != nil {
		return false
	}
	ln, ok := c.fwd.remove(fwdKey{network: "unix", addr: r.SocketPath})
	if !ok {
		return false
	}
	_ = ln.Close()
	c.log.Info("streamlocal-forward cancelled", "socket", r.SocketPath)
	return true
}

func (c *userConn) acceptStreamlocal(ln net.Listener, path string, log *slog.Logger) {
	for {
		uc, err := ln.Accept()
		if err != nil {
			return // cancelled or connection ended
		}
		if !c.work.goFn(func() { c.relayStreamlocal(uc.(*net.UnixConn), path, log) }) {
			_ = uc.Close()
			return
		}
	}
}

func (c *userConn) relayStreamlocal(uc *net.UnixConn, path string, log *slog.Logger) {
	// The client matches the channel to its forward by the path it asked
	// for, so it is echoed unchanged.
	payload := gossh.Marshal(struct {
		SocketPath string
		Reserved   string
	}{path, ""})
	c.openAndJoin("forwarded-streamlocal@openssh.com", payload, uc, log)
}
