package agent

import (
	"log/slog"
	"net"
	"strconv"
	"sync"

	gossh "golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// handleDirectTCPIP serves ssh -L: dial the target and relay with
// half-close. Any address the agent host can reach is allowed, as with
// sshd's AllowTcpForwarding yes.
func (c *userConn) handleDirectTCPIP(nc *chanwire.NewChannel) {
	var d struct {
		DestAddr   string
		DestPort   uint32
		OriginAddr string
		OriginPort uint32
	}
	if err := gossh.Unmarshal(nc.ExtraData(), &d); err != nil || d.DestPort > 65535 {
		_ = nc.Reject(chanwire.ConnectionFailed, "malformed direct-tcpip request")
		return
	}
	target := net.JoinHostPort(d.DestAddr, strconv.Itoa(int(d.DestPort)))
	c.dialAndJoin(nc, "tcp", target, c.chanLog("direct-tcpip").With("target", target))
}

// forwards are the connection's ssh -R listeners, TCP and unix.
type forwards struct {
	mu     sync.Mutex
	closed bool
	ls     map[fwdKey]net.Listener
}

// fwdKey names a listener the way the client does: the address string it
// asked for and the port actually bound (tcp), or the socket path as it
// asked for it (unix, port 0).
type fwdKey struct {
	network string
	addr    string
	port    uint32
}

func (f *forwards) add(k fwdKey, ln net.Listener) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	if f.ls == nil {
		f.ls = make(map[fwdKey]net.Listener)
	}
	if _, dup := f.ls[k]; dup {
		return false
	}
	f.ls[k] = ln
	return true
}

func (f *forwards) remove(k fwdKey) (net.Listener, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ln, ok := f.ls[k]
	delete(f.ls, k)
	return ln, ok
}

func (f *forwards) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for k, ln := range f.ls {
		_ = ln.Close()
		delete(f.ls, k)
	}
}

// bindHost is where a tcpip-forward listens: loopback for "localhost",
// every address for "" and "*" (RFC 4254), else the address as given. The
// agent binds what it is asked: the gateway decides, per workspace
// setting, whether a client may ask for more than loopback.
func bindHost(addr string) string {
	switch addr {
	case "localhost":
		return "127.0.0.1"
	case "", "*":
		return ""
	}
	return addr
}

type forwardRequest struct {
	Addr string
	Port uint32
}

// handleTCPIPForward serves ssh -R: listen on the agent host and hand each
// accepted connection to the client as a forwarded-tcpip channel.
func (c *userConn) handleTCPIPForward(payload []byte) (bool, []byte) {
	var r forwardRequest
	if err := gossh.Unmarshal(payload, &r); err != nil || r.Port > 65535 {
		return false, nil
	}
	log := c.log.With("forward", net.JoinHostPort(r.Addr, strconv.Itoa(int(r.Port))))
	ln, err := c.listenAsUser("tcp", net.JoinHostPort(bindHost(r.Addr), strconv.Itoa(int(r.Port))))
	if err != nil {
		log.Info("tcpip-forward listen failed", "err", err)
		return false, nil
	}
	port := uint32(ln.Addr().(*net.TCPAddr).Port)
	k := fwdKey{network: "tcp", addr: r.Addr, port: port}
	if !c.fwd.add(k, ln) {
		_ = ln.Close()
		return false, nil
	}
	if !c.work.goFn(func() { c.acceptForwarded(ln, r.Addr, port, log) }) {
		c.fwd.remove(k)
		_ = ln.Close()
		return false, nil
	}
	log.Info("tcpip-forward listening", "port", port)
	if r.Port == 0 {
		return true, gossh.Marshal(struct{ Port uint32 }{port})
	}
	return true, nil
}

func (c *userConn) handleCancelTCPIPForward(payload []byte) bool {
	var r forwardRequest
	if err := gossh.Unmarshal(payload, &r); err != nil {
		return false
	}
	ln, ok := c.fwd.remove(fwdKey{network: "tcp", addr: r.Addr, port: r.Port})
	if !ok {
		return false
	}
	_ = ln.Close()
	c.log.Info("tcpip-forward cancelled", "addr", r.Addr, "port", r.Port)
	return true
}

func (c *userConn) acceptForwarded(ln net.Listener, addr string, port uint32, log *slog.Logger) {
	for {
		tc, err := ln.Accept()
		if err != nil {
			return // cancelled or connection ended
		}
		if !c.work.goFn(func() { c.relayForwarded(tc.(*net.TCPConn), addr, port, log) }) {
			_ = tc.Close()
			return
		}
	}
}

func (c *userConn) relayForwarded(tc *net.TCPConn, addr string, port uint32, log *slog.Logger) {
	origin := tc.RemoteAddr().(*net.TCPAddr)
	// The client matches the channel to its forward by the address string
	// it asked for, so it is echoed unchanged.
	payload := gossh.Marshal(struct {
		Addr       string
		Port       uint32
		OriginAddr string
		OriginPort uint32
	}{addr, port, origin.IP.String(), uint32(origin.Port)})
	c.openAndJoin("forwarded-tcpip", payload, tc, log)
}

// openAndJoin asks the gateway to open a channel of typ toward the user
// (only the gateway opens streams) and relays local, a connection accepted
// for it, through it; local is closed if the channel cannot open.
func (c *userConn) openAndJoin(typ string, payload []byte, local halfCloser, log *slog.Logger) {
	ch, reqs, err := c.cw.OpenChannel(typ, payload)
	if err != nil {
		log.Info("open channel toward the user", "type", typ, "err", err)
		_ = local.Close()
		return
	}
	c.discard(reqs)
	join(c.ctx, ch, local)
}

// dialAndJoin serves a channel the user opened toward network address
// addr (direct-tcpip, direct-streamlocal): dial it, answer the channel
// (refused with the dial error), and relay the two.
func (c *userConn) dialAndJoin(nc *chanwire.NewChannel, network, addr string, log *slog.Logger) {
	conn, err := c.dial(c.ctx, network, addr)
	if err != nil {
		log.Info(nc.ChannelType()+" dial failed", "err", err)
		_ = nc.Reject(chanwire.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		_ = conn.Close()
		return
	}
	c.discard(reqs)
	log.Debug(nc.ChannelType() + " open")
	join(c.ctx, ch, asHalfCloser(conn))
	log.Debug(nc.ChannelType() + " closed")
}
