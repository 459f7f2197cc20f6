package sshfront

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	gssh "github.com/gliderlabs/ssh"
	"golang.org/x/crypto/ssh"
)

// The front door's SSH transport is gliderlabs' HandleConn, called from the
// gateway's own accept loop (Serve) so that the connection limits,
// timeouts, PROXY protocol and shutdown stay the gateway's. gliderlabs only
// runs the handshake and hands over channels and global requests; the
// ServerConfig (authentication included) is the gateway's, built per
// connection by serverConfig.

// frontConnKey is the gliderlabs context key of a connection's *frontConn.
type frontConnKey struct{}

// newFront returns the gliderlabs server shared by every connection.
func (s *Server) newFront() *gssh.Server {
	return &gssh.Server{
		ConnCallback: func(ctx gssh.Context, conn net.Conn) net.Conn {
			if fc, ok := conn.(*frontConn); ok {
				fc.gctx = ctx
				ctx.SetValue(frontConnKey{}, fc)
			}
			return conn
		},
		ServerConfigCallback: func(ctx gssh.Context) *ssh.ServerConfig {
			fc, ok := ctx.Value(frontConnKey{}).(*frontConn)
			if !ok {
				// Cannot happen (every connection comes through handshake),
				// but gliderlabs would otherwise let "none" in.
				return refusingConfig()
			}
			return s.serverConfig(fc)
		},
		ConnectionFailedCallback: func(conn net.Conn, err error) {
			s.handshakeFailed(conn.RemoteAddr().String(), err)
		},
		// Every channel type goes to the proxy (or the refusal), which
		// accepts or rejects it exactly as before; "default" is gliderlabs'
		// fallback for the types not named.
		ChannelHandlers: map[string]gssh.ChannelHandler{
			"session":      forwardChannel,
			"direct-tcpip": forwardChannel,
			"default":      forwardChannel,
		},
		RequestHandlers: map[string]gssh.RequestHandler{"default": forwardRequest},
	}
}

// refusingConfig accepts no authentication at all.
func refusingConfig() *ssh.ServerConfig {
	return &ssh.ServerConfig{
		NoClientAuth:         true,
		NoClientAuthCallback: refuseNoneAuth,
		ServerVersion:        serverVersion,
	}
}

// refuseNoneAuth refuses the "none" method. gliderlabs sets NoClientAuth
// whenever none of its own authentication handlers is set (the gateway sets
// none: its callbacks are in the ServerConfig), and x/crypto then lets
// "none" in unless this callback says no.
func refuseNoneAuth(ssh.ConnMetadata) (*ssh.Permissions, error) {
	return nil, errNoneAuth
}

// frontConn is one connection as gliderlabs sees it, with what its
// callbacks and handlers share with the gateway: the authentication state,
// the signal that authentication succeeded, and the channels that carry
// the client's new channels and global requests to handle.
type frontConn struct {
	*connState
	bound       *identity // set: the client already proved who it is
	auth        *authenticator
	unavailable atomic.Bool
	// refused is set once refuseEarly refused the user; authentication
	// callbacks run one at a time on the handshake goroutine.
	refused bool
	// allowed is refuseEarly's verdict for the user it let in: the
	// session starts from it rather than deciding the target again.
	allowed *earlyVerdict
	gctx    gssh.Context // set by ConnCallback, before the handshake

	authOnce sync.Once
	authed   chan struct{} // closed once authentication succeeded

	chans chan ssh.NewChannel
	reqs  chan *ssh.Request
	stop  chan struct{} // closed when gliderlabs is done with the connection
	inMu  sync.RWMutex  // held to send on chans and reqs, taken to close them
	inEnd bool

	out *asyncWriter // the SSH transport's writes, sent on another goroutine

	banner bannerWatch // moves the deadline once the client's version line came
}

func (fc *frontConn) Read(p []byte) (int, error) {
	n, err := fc.connState.Read(p)
	fc.banner.read(p[:n])
	return n, err
}

func (fc *frontConn) Write(p []byte) (int, error) { return fc.out.Write(p) }
func (fc *frontConn) Close() error                { return fc.out.Close() }

func newFrontConn(cs *connState, bound *identity) *frontConn {
	return &frontConn{
		connState: cs,
		bound:     bound,
		authed:    make(chan struct{}),
		chans:     make(chan ssh.NewChannel),
		reqs:      make(chan *ssh.Request),
		stop:      make(chan struct{}),
		out:       newAsyncWriter(cs),
	}
}

// SetDeadline ignores gliderlabs' deadlines: without its own idle or max
// timeouts it clears the deadline before every read and write, which
// would undo the handshake timeout (and cost a call per packet). The
// gateway sets deadlines on the connState.
func (fc *frontConn) SetDeadline(time.Time) error { return nil }

// halt ends the connection for its user: what is queued is sent, then the
// end of the stream, and nothing more the user sends is passed on. The
// teardown waits for Close. When the end of the stream could not be sent
// (the connection cannot half-close, or the user is gone), the user's
// client has nothing to close in reaction to: UserClosed says so at once.
func (fc *frontConn) halt() {
	fc.connState.haltReads()
	if !fc.out.shutdown() {
		fc.connState.userGone()
	}
}

// authenticated records that authentication succeeded.
func (fc *frontConn) authenticated() { fc.authOnce.Do(func() { close(fc.authed) }) }

// waitServerConn waits until the handshake is over and returns the SSH
// connection, or nil when the handshake failed; served is closed when
// HandleConn returned.
func (fc *frontConn) waitServerConn(served <-chan struct{}) *ssh.ServerConn {
	select {
	case <-fc.authed:
	case <-served:
		return nil
	}
	// Authentication succeeded: x/crypto sends its success message and
	// returns, and gliderlabs stores the connection in its context, within
	// microseconds. gliderlabs has no hook to say so, so look until then.
	conn := func() (*ssh.ServerConn, bool) {
		sc, ok := fc.gctx.Value(gssh.ContextKeyConn).(*ssh.ServerConn)
		return sc, ok
	}
	d := 20 * time.Microsecond
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		if sc, ok := conn(); ok {
			return sc
		}
		select {
		case <-served:
			sc, _ := conn()
			return sc
		case <-t.C:
			d = min(2*d, 5*time.Millisecond)
			t.Reset(d)
		}
	}
}

// sendChannel hands nc to the gateway; false when the connection is over.
func (fc *frontConn) sendChannel(nc ssh.NewChannel) bool {
	fc.inMu.RLock()
	defer fc.inMu.RUnlock()
	if fc.inEnd {
		return false
	}
	select {
	case fc.chans <- nc:
		return true
	case <-fc.stop:
		return false
	}
}

// sendRequest hands r to the gateway; false when the connection is over.
func (fc *frontConn) sendRequest(r *ssh.Request) bool {
	fc.inMu.RLock()
	defer fc.inMu.RUnlock()
	if fc.inEnd {
		return false
	}
	select {
	case fc.reqs <- r:
		return true
	case <-fc.stop:
		return false
	}
}

// closeInputs closes chans and reqs once HandleConn returned; handlers
// still running (gliderlabs does not wait for them) give up instead.
func (fc *frontConn) closeInputs() {
	close(fc.stop)
	fc.inMu.Lock()
	defer fc.inMu.Unlock()
	fc.inEnd = true
	close(fc.chans)
	close(fc.reqs)
}

func frontConnOf(ctx gssh.Context) *frontConn {
	fc, _ := ctx.Value(frontConnKey{}).(*frontConn)
	return fc
}

// forwardChannel is the gliderlabs channel handler for every type: the
// channel goes, as it came, to the proxy or the refusal.
func forwardChannel(_ *gssh.Server, _ *ssh.ServerConn, nc ssh.NewChannel, ctx gssh.Context) {
	if fc := frontConnOf(ctx); fc == nil || !fc.sendChannel(nc) {
		_ = nc.Reject(ssh.ConnectionFailed, "connection closing")
	}
}

// forwardRequest is the gliderlabs handler for every global request. The
// proxy answers requests itself, in order and after the agent did;
// gliderlabs replies with what its handler returns, so the handler passes
// on a copy and clears WantReply on the original to keep gliderlabs quiet.
func forwardRequest(ctx gssh.Context, _ *gssh.Server, r *ssh.Request) (bool, []byte) {
	cp := *r
	r.WantReply = false
	if fc := frontConnOf(ctx); fc == nil || !fc.sendRequest(&cp) {
		replyIfWanted(&cp, false, nil)
	}
	return false, nil
}
