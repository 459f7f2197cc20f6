package agent

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	gssh "github.com/gliderlabs/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel"
)

// handshakeTimeout bounds an SSH handshake on a stream (a var for tests).
var handshakeTimeout = 30 * time.Second

// sshConn is one SSH connection from the gateway, on one tunnel stream.
type sshConn struct {
	a   *Agent
	hdr tunnel.Header
	log *slog.Logger

	ctx    context.Context // ends with the connection or the agent
	cancel context.CancelFunc
	work   group // channel handlers and every goroutine they start

	nextChan atomic.Uint64
	fwd      forwards
}

// serveSSH runs an SSH server connection on conn until it ends, then tears
// down everything it started (processes, listeners, relays).
func (a *Agent) serveSSH(conn net.Conn, h tunnel.Header, log *slog.Logger) {
	ctx, cancel := context.WithCancel(a.ctx)
	c := &sshConn{a: a, hdr: h, log: log, ctx: ctx, cancel: cancel}
	// One gliderlabs Server per stream: its handlers close over this
	// connection's state. It never listens; HandleConn serves conn.
	srv := &gssh.Server{
		HostSigners: []gssh.Signer{a.signer},
		Version:     "wsgate-agent",
		ChannelHandlers: map[string]gssh.ChannelHandler{
			"session":      c.tracked(c.handleSession),
			"direct-tcpip": c.tracked(c.handleDirectTCPIP),
		},
		RequestHandlers: map[string]gssh.RequestHandler{
			"tcpip-forward":        c.handleTCPIPForward,
			"cancel-tcpip-forward": c.handleCancelTCPIPForward,
		},
		ConnectionFailedCallback: func(_ net.Conn, err error) {
			log.Info("ssh handshake failed", "err", err)
		},
	}
	// A gateway that opens a stream but never finishes the handshake must
	// not hold it forever; "none" auth succeeding is the end of it.
	hsTimer := time.AfterFunc(handshakeTimeout, func() {
		log.Warn("ssh handshake timed out")
		abortConn(conn)
	})
	srv.ServerConfigCallback = func(gssh.Context) *gossh.ServerConfig {
		return &gossh.ServerConfig{NoClientAuthCallback: func(gossh.ConnMetadata) (*gossh.Permissions, error) {
			hsTimer.Stop()
			return nil, nil
		}}
	}
	log.Info("ssh connection open")
	srv.HandleConn(conn) // returns when the connection is gone; closes conn
	hsTimer.Stop()
	cancel()
	c.fwd.closeAll()
	c.work.close()
	log.Info("ssh connection closed")
}

// tracked makes a channel handler a member of the connection's work group,
// so teardown waits for it; once teardown has begun new channels are refused.
func (c *sshConn) tracked(h func(*gossh.ServerConn, gossh.NewChannel)) gssh.ChannelHandler {
	return func(_ *gssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, _ gssh.Context) {
		if !c.work.enter() {
			_ = nc.Reject(gossh.ResourceShortage, "connection is closing")
			return
		}
		defer c.work.leave()
		h(conn, nc)
	}
}

// chanLog names a new channel in the logs.
func (c *sshConn) chanLog(kind string) *slog.Logger {
	return c.log.With("channel", kind+"-"+strconv.FormatUint(c.nextChan.Add(1), 10))
}
