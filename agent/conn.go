package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync/atomic"

	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// userConn is one user SSH connection, terminated by the gateway: its conn
// stream and the channel streams that name it.
type userConn struct {
	a   *Agent
	hdr tunnel.Header
	log *slog.Logger
	cw  *chanwire.Conn // set by chanwire.Server's ready, before registration

	ctx    context.Context // ends with the connection or the agent
	cancel context.CancelFunc
	work   group // channel handlers and every goroutine they start

	nextChan atomic.Uint64
	fwd      forwards
	procs    *procSession // the processes its sessions start
}

// errSessionInUse refuses a second conn stream for a live session id.
var errSessionInUse = errors.New("session id already in use")

// serveConn serves a conn stream: the connection's new channels and global
// requests until it ends, then tears down everything it started
// (processes, listeners, relays, forwarded-agent sockets).
func (a *Agent) serveConn(stream net.Conn, h tunnel.Header, log *slog.Logger) {
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	c := &userConn{a: a, hdr: h, log: log, ctx: ctx, cancel: cancel, procs: a.procs.session(h.User)}
	defer c.procs.end()
	cw, chans, reqs, err := chanwire.Server(stream, func(cw *chanwire.Conn) error {
		c.cw = cw
		if !a.conns.add(c) {
			return errSessionInUse
		}
		return nil
	})
	if err != nil {
		log.Warn("conn stream refused", "err", err)
		return
	}
	defer a.conns.remove(c)
	log.Info("ssh connection open")
	for chans != nil || reqs != nil {
		select {
		case nc, ok := <-chans:
			if !ok {
				chans = nil
				continue
			}
			c.handleChannel(nc)
		case req, ok := <-reqs:
			if !ok {
				reqs = nil
				continue
			}
			// In order, here: replies must keep the order of the requests.
			c.handleGlobal(req)
		}
	}
	if err := cw.Wait(); err != nil {
		log.Info("conn stream ended", "err", err)
	}
	cancel()
	_ = cw.Close()
	c.fwd.closeAll()
	c.work.close()
	log.Info("ssh connection closed")
}

// handleChannel serves a new channel in a goroutine of the connection's
// work group, so teardown waits for it; once teardown has begun new
// channels are refused.
func (c *userConn) handleChannel(nc *chanwire.NewChannel) {
	var h func(*chanwire.NewChannel)
	switch nc.ChannelType() {
	case "session":
		h = c.handleSession
	case "direct-tcpip":
		h = c.handleDirectTCPIP
	case "direct-streamlocal@openssh.com":
		h = c.handleDirectStreamlocal
	default:
		c.log.Debug("channel type refused", "type", nc.ChannelType())
		_ = nc.Reject(chanwire.UnknownChannelType, "unknown channel type "+nc.ChannelType())
		return
	}
	if !c.work.goFn(func() { h(nc) }) {
		_ = nc.Reject(chanwire.ResourceShortage, "connection is closing")
	}
}

// handleGlobal answers one global request; unknown ones get "no".
func (c *userConn) handleGlobal(req *chanwire.Request) {
	var (
		ok    bool
		reply []byte
	)
	switch req.Type {
	case "tcpip-forward":
		ok, reply = c.handleTCPIPForward(req.Payload)
	case "cancel-tcpip-forward":
		ok = c.handleCancelTCPIPForward(req.Payload)
	case "streamlocal-forward@openssh.com":
		ok = c.handleStreamlocalForward(req.Payload)
	case "cancel-streamlocal-forward@openssh.com":
		ok = c.handleCancelStreamlocalForward(req.Payload)
	default:
		if req.WantReply {
			c.log.Debug("global request refused", "type", req.Type)
		}
	}
	if err := req.Reply(ok, reply); err != nil {
		c.log.Debug("reply to global request", "type", req.Type, "err", err)
	}
}

// serveChannel hands a channel stream to the connection it names; it
// returns at once, the connection serves the channel.
func (a *Agent) serveChannel(stream net.Conn, h tunnel.Header, log *slog.Logger) {
	c := a.conns.lookup(h.SessionID, h.User)
	if c == nil {
		log.Debug("channel stream for an unknown connection")
		abortConn(stream)
		return
	}
	if err := c.cw.HandleStream(stream); err != nil && !errors.Is(err, chanwire.ErrChannelClosed) {
		log.Info("channel stream refused", "err", err)
	}
}

// chanLog names a new channel in the logs.
func (c *userConn) chanLog(kind string) *slog.Logger {
	return c.log.With("channel", kind+"-"+strconv.FormatUint(c.nextChan.Add(1), 10))
}

// discard answers a channel's requests with "no" until it closes. The
// goroutine belongs to the connection's group when it can; when the
// connection is already closing it runs alone, ending with the channel.
func (c *userConn) discard(reqs <-chan *chanwire.Request) {
	if !c.work.goFn(func() { discardRequests(reqs) }) {
		go discardRequests(reqs)
	}
}

func discardRequests(reqs <-chan *chanwire.Request) {
	for req := range reqs {
		_ = req.Reply(false, nil)
	}
}
