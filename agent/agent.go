package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"

	"github.com/wsgate/wsgate/tunnel"
)

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("agent closed")

// Agent serves the streams of one workspace.
type Agent struct {
	cfg  Config
	user osUser
	log  *slog.Logger

	// ctx ends when Close starts; everything long-lived selects on it.
	ctx    context.Context
	cancel context.CancelFunc

	streams group // one member per HandleStream call

	conns connTable // live user SSH connections, by the gateway's session id

	stats *statsBook // live streams and traffic, for the control stream
	logs  *logRing   // recent log lines, for the control stream

	procs *procTracker // every process a connection starts, by user
}

// New validates cfg and creates the start directory.
func New(cfg Config) (*Agent, error) {
	cfg, u, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := newLogRing(logRingLines)
	cfg.Logger = logs.teeLogger(cfg.Logger)
	if !u.separate() {
		warnSharedUser(cfg.Logger, u)
	}
	procs := newProcTracker(newProcBackend(cfg.Shell, cfg.forceSubreaper, cfg.Logger), cfg.KeepProcesses, cfg.Logger)
	procs.start(ctx)
	cfg.Logger.Info("process tracking", "mode", procs.backend.kind(), "keep_processes", cfg.KeepProcesses)
	return &Agent{
		cfg:    cfg,
		user:   u,
		log:    cfg.Logger,
		ctx:    ctx,
		cancel: cancel,
		stats:  newStatsBook(),
		logs:   logs,
		procs:  procs,
	}, nil
}

// HandleStream serves one tunnel stream and returns when it is done:
// KindConn → one user SSH connection (package chanwire) until it ends,
// with everything it started; KindChannel → hands a channel stream to its
// connection (named by h.SessionID) and returns; KindTCP → a relay to
// 127.0.0.1:<h.Port> with half-close passed through; KindControl → one
// answer about the agent (see serveControl). KindSSH, tunnel protocol v1,
// is refused. It closes conn, or hands it on.
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
	switch h.Kind {
	case tunnel.KindControl:
		a.serveControl(conn, log)
		return
	case tunnel.KindSSH:
		log.Warn("tunnel protocol v1 stream refused")
		abortConn(conn)
		return
	}
	conn, done := a.stats.stream(conn, h)
	defer done()
	switch h.Kind {
	case tunnel.KindConn:
		a.serveConn(conn, h, log)
	case tunnel.KindChannel:
		a.serveChannel(conn, h, log)
	case tunnel.KindTCP:
		a.serveTCP(conn, h.Port, log)
	}
}

// Close ends every live stream (user connections and their processes, TCP
// relays), refuses new ones, and waits until all of it has finished.
func (a *Agent) Close() error {
	a.cancel()
	a.streams.close()
	a.procs.close()
	return nil
}
