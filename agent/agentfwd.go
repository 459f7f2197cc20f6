package agent

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// agentForward is one session's forwarded SSH agent (ssh -A): a unix socket
// in a private directory whose connections each become an
// auth-agent@openssh.com channel back to the client.
//
// Every session runs as the agent's OS user, so other sessions of this
// workspace (collaborators) can reach the socket too while it exists — the
// same exposure as forwarding an agent to any shared account.
type agentForward struct {
	dir  string
	path string
	ln   net.Listener
	once sync.Once
}

func (c *userConn) startAgentForward(log *slog.Logger) (*agentForward, error) {
	var dir, path string
	var ln net.Listener
	// As the session user: the directory (0700) and the socket (0600) are
	// theirs, so neither root's permissions nor another user reach them.
	err := asUser(c.a.user, func() error {
		var err error
		if dir, err = os.MkdirTemp("", "wsgate-agent-"); err != nil {
			return fmt.Errorf("agent socket directory: %w", err)
		}
		path = filepath.Join(dir, "agent.sock")
		if ln, err = net.Listen("unix", path); err != nil {
			_ = os.RemoveAll(dir)
			return fmt.Errorf("agent socket: %w", err)
		}
		if err = os.Chmod(path, 0o600); err != nil {
			_ = ln.Close()
			_ = os.RemoveAll(dir)
			return fmt.Errorf("agent socket: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f := &agentForward{dir: dir, path: path, ln: ln}
	if !c.work.goFn(func() { c.acceptAgentConns(ln, log) }) {
		f.stop()
		return nil, fmt.Errorf("agent socket: connection closing")
	}
	return f, nil
}

func (c *userConn) acceptAgentConns(ln net.Listener, log *slog.Logger) {
	for {
		uc, err := ln.Accept()
		if err != nil {
			return // stop closed the listener
		}
		if !c.work.goFn(func() { c.relayAgentConn(uc.(*net.UnixConn), log) }) {
			_ = uc.Close()
			return
		}
	}
}

// The gateway opens the channel to the user on the agent's request (only
// the gateway opens streams).
func (c *userConn) relayAgentConn(uc *net.UnixConn, log *slog.Logger) {
	c.openAndJoin("auth-agent@openssh.com", nil, uc, log)
}

// stop closes the socket and removes its directory; connections already
// relayed go on until they end. Safe on nil and more than once.
func (f *agentForward) stop() {
	if f == nil {
		return
	}
	f.once.Do(func() {
		_ = f.ln.Close()
		_ = os.RemoveAll(f.dir)
	})
}
