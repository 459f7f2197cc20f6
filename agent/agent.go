package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"

	gossh "golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel"
)

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("agent closed")

// Agent serves the streams of one workspace.
type Agent struct {
	cfg    Config
	user   osUser
	log    *slog.Logger
	signer gossh.Signer

	// ctx ends when Close starts; everything long-lived selects on it.
	ctx    context.Context
	cancel context.CancelFunc

	streams group // one member per HandleStream call

	stats *statsBook // live streams and traffic, for the control stream
	logs  *logRing   // recent log lines, for the control stream
}

// New validates cfg, creates the start directory and generates an
// ephemeral host key: the gateway does not pin it, the tunnel is the trust.
func New(cfg Config) (*Agent, error) {
	cfg, u, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate host key: %w", err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("host key signer: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := newLogRing(logRingLines)
	cfg.Logger = logs.teeLogger(cfg.Logger)
	return &Agent{
		cfg:    cfg,
		user:   u,
		log:    cfg.Logger,
		signer: signer,
		ctx:    ctx,
		cancel: cancel,
		stats:  newStatsBook(),
		logs:   logs,
	}, nil
}

// HandleStream serves one tunnel stream and returns when it is done:
// KindSSH → an SSH server connection on conn; KindTCP → a relay to
// 127.0.0.1:<h.Port> with half-close passed through; KindControl → one
// answer about the agent (see serveControl). It closes conn.
func (a *Agent) HandleStream(conn net.Conn, h tunnel.Header) {
	if err := h.Validate(); err != nil {
		a.log.Warn("refusing stream", "err", err)
		abortConn(conn)
		return
	}
	if !a.streams.enter() {
		abortConn(conn)
		return
	}
	defer a.streams.leave()
	stop := context.AfterFunc(a.ctx, func() { abortConn(conn) })
	defer stop()

	log := a.log.With("user", h.User, "session", h.SessionID, "kind", h.Kind.String())
	if h.Kind == tunnel.KindControl {
		a.serveControl(conn, log)
		return
	}
	conn, done := a.stats.stream(conn, h)
	defer done()
	switch h.Kind {
	case tunnel.KindSSH:
		a.serveSSH(conn, h, log)
	case tunnel.KindTCP:
		a.serveTCP(conn, h.Port, log)
	}
}

// Close ends every live stream (SSH connections and their processes, TCP
// relays), refuses new ones, and waits until all of it has finished.
func (a *Agent) Close() error {
	a.cancel()
	a.streams.close()
	return nil
}
