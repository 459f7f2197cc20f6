package edge

import (
	"fmt"
	"net"
	"sync"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// DefaultHeaderTimeout is how long ProxyProtocol waits for a connection's
// first bytes when given no timeout.
const DefaultHeaderTimeout = 5 * time.Second

// ProxyProtocol wraps a listener (the SSH port) for a TCP load balancer that
// speaks the PROXY protocol. A connection from a trusted proxy may start with
// a v1 or v2 header, whose source address then becomes the connection's
// RemoteAddr; one without a header is served as it is. A connection from any
// other peer that starts with a header is closed, as is one with a malformed
// header. With no trusted proxies ln is returned as it is (a header is then
// just a broken SSH banner).
//
// Accept never blocks on a connection's bytes and never fails because of
// one: the header is read on the connection's first Read, Write, RemoteAddr
// or LocalAddr, so call those off the accept loop. A rejected connection
// is closed there and that first call fails. The header is looked for in
// the first bytes the peer sends, which suits SSH, whose client speaks
// first; a peer that sends nothing for headerTimeout (DefaultHeaderTimeout
// when not positive) is taken to have no header.
func ProxyProtocol(ln net.Listener, p Proxies, headerTimeout time.Duration) net.Listener {
	if p.empty() {
		return ln
	}
	if headerTimeout <= 0 {
		headerTimeout = DefaultHeaderTimeout
	}
	return &proxyListener{Listener: &proxyproto.Listener{
		Listener: ln,
		// Never an error: go-proxyproto's Accept returns a policy error
		// that does not wrap ErrInvalidUpstream, which would end the
		// caller's accept loop.
		ConnPolicy: func(o proxyproto.ConnPolicyOptions) (proxyproto.Policy, error) {
			if o.Upstream != nil && p.Trusts(o.Upstream.String()) {
				return proxyproto.USE, nil // a header is optional
			}
			return proxyproto.REJECT, nil // a header fails the first read
		},
		ReadHeaderTimeout: headerTimeout,
	}}
}

// proxyListener closes the connections go-proxyproto refuses: the library
// only fails their reads.
type proxyListener struct{ net.Listener }

func (l *proxyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	pc, ok := c.(*proxyproto.Conn)
	if !ok {
		return c, nil
	}
	return &proxyConn{pc: pc}, nil
}

// proxyConn reads the PROXY header before anything else and closes the
// connection when the header is refused or malformed. It does not embed the
// library's Conn, whose ReadFrom and WriteTo would skip that.
type proxyConn struct {
	pc   *proxyproto.Conn
	once sync.Once
	err  error
}

var _ net.Conn = (*proxyConn)(nil)

// header processes the PROXY header once. A zero-length read runs
// go-proxyproto's header processing without consuming the peer's data.
func (c *proxyConn) header() error {
	c.once.Do(func() {
		if _, err := c.pc.Read(nil); err != nil {
			c.err = fmt.Errorf("proxy protocol from %s: %w", c.pc.Raw().RemoteAddr(), err)
			_ = c.pc.Close()
		}
	})
	return c.err
}

func (c *proxyConn) Read(b []byte) (int, error) {
	if err := c.header(); err != nil {
		return 0, err
	}
	return c.pc.Read(b)
}

func (c *proxyConn) Write(b []byte) (int, error) {
	if err := c.header(); err != nil {
		return 0, err
	}
	return c.pc.Write(b)
}

// RemoteAddr is the client's address from the header, else the peer's.
func (c *proxyConn) RemoteAddr() net.Addr {
	_ = c.header()
	return c.pc.RemoteAddr()
}

// LocalAddr is the address the client connected to, from the header, else
// the socket's own.
func (c *proxyConn) LocalAddr() net.Addr {
	_ = c.header()
	return c.pc.LocalAddr()
}

func (c *proxyConn) Close() error                       { return c.pc.Close() }
func (c *proxyConn) SetDeadline(t time.Time) error      { return c.pc.SetDeadline(t) }
func (c *proxyConn) SetReadDeadline(t time.Time) error  { return c.pc.SetReadDeadline(t) }
func (c *proxyConn) SetWriteDeadline(t time.Time) error { return c.pc.SetWriteDeadline(t) }
