package edge

import (
	"errors"
	"net"
	"sync"
)

// LimitListener caps the connections ln hands out per source (the TCP
// peer: a forwarded client address means nothing before a request is
// read) with lm; a connection over the cap is closed at once and refused
// is told why. Peers exempt says so (trusted proxies, which carry many
// clients) are not counted. A connection's slot is freed when it is
// closed, also after an HTTP handler hijacked it.
func LimitListener(ln net.Listener, lm *Limiter, exempt func(remote string) bool, refused func(remote string, r Refusal)) net.Listener {
	return &limitListener{Listener: ln, lm: lm, exempt: exempt, refused: refused}
}

type limitListener struct {
	net.Listener
	lm      *Limiter
	exempt  func(string) bool
	refused func(string, Refusal)
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		remote := c.RemoteAddr().String()
		if l.exempt != nil && l.exempt(remote) {
			return c, nil
		}
		release, r := l.lm.Admit(PeerAddr(remote))
		if r == "" {
			return &limitedConn{Conn: c, release: release}, nil
		}
		_ = c.Close()
		if l.refused != nil {
			l.refused(remote, r)
		}
	}
}

// limitedConn frees its slot when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite passes a half-close on when the connection can (tunnels and
// SSH over HTTPS half-close).
func (c *limitedConn) CloseWrite() error { return CloseWrite(c.Conn) }

// CloseWrite half-closes c when it can (TCP, TLS, Unix sockets, and the
// wrappers of them that pass it on); for a connection that cannot it does
// nothing and returns errors.ErrUnsupported. Wrapping conns call it so
// that a half-close reaches the socket.
func CloseWrite(c net.Conn) error {
	if hc, ok := c.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return errors.ErrUnsupported
}
