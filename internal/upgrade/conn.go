package upgrade

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// commitTimeout bounds writing a held 101 in Commit.
const commitTimeout = 10 * time.Second

// Conn is an upgraded connection, either end. Read returns first the bytes
// that the HTTP parser had already buffered (the peer may send right behind
// the request or the 101). On the server side the 101 is held until
// Commit or the first Write.
type Conn struct {
	net.Conn

	rmu      sync.Mutex
	buffered []byte // read before Conn; nil once consumed

	wmu       sync.Mutex
	preamble  []byte // the held 101; nil once written
	commitErr error

	respHeader http.Header // the 101's header fields, client side
}

// ResponseHeader returns the header fields of the 101 the server answered
// (Dial's side; nil on the server's). It is not to be modified.
func (c *Conn) ResponseHeader() http.Header { return c.respHeader }

var _ net.Conn = (*Conn)(nil)

// newConn wraps c, taking over what br had buffered from it.
func newConn(c net.Conn, br *bufio.Reader, preamble []byte) *Conn {
	uc := &Conn{Conn: c, preamble: preamble}
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		uc.buffered = append([]byte(nil), b...)
	}
	return uc
}

func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	if len(c.buffered) > 0 {
		n := copy(p, c.buffered)
		c.buffered = c.buffered[n:]
		if len(c.buffered) == 0 {
			c.buffered = nil
		}
		c.rmu.Unlock()
		return n, nil
	}
	c.rmu.Unlock()
	return c.Conn.Read(p)
}

// Write sends the held 101, if any, in the same write as p.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	if c.preamble == nil {
		c.wmu.Unlock()
		return c.Conn.Write(p)
	}
	defer c.wmu.Unlock()
	pre := len(c.preamble)
	buf := append(c.preamble, p...)
	c.preamble = nil
	n, err := c.Conn.Write(buf)
	if err != nil {
		c.commitErr = fmt.Errorf("write 101: %w", err)
	}
	return max(n-pre, 0), err
}

// WriteBuffers sends bufs with one system call (writev), uncopied, when
// the connection under c is a TCP socket and the held 101 is out. handled
// is false, with nothing written, when it cannot (TLS, another kind of
// conn, or the 101 still held): the caller then writes the usual way.
func (c *Conn) WriteBuffers(bufs *net.Buffers) (n int64, handled bool, err error) {
	tc, ok := c.Conn.(*net.TCPConn)
	if !ok {
		return 0, false, nil
	}
	c.wmu.Lock()
	held := c.preamble != nil
	c.wmu.Unlock()
	if held {
		return 0, false, nil
	}
	n, err = bufs.WriteTo(tc)
	return n, true, err
}

// Commit writes the held 101 now if it has not gone out yet, within
// commitTimeout. Clients learn they are connected only then, so a server
// commits after it made the connection usable (registered it).
func (c *Conn) Commit() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.preamble == nil {
		return c.commitErr
	}
	pre := c.preamble
	c.preamble = nil
	_ = c.Conn.SetWriteDeadline(time.Now().Add(commitTimeout))
	if _, err := c.Conn.Write(pre); err != nil {
		c.commitErr = fmt.Errorf("write 101: %w", err)
	}
	_ = c.Conn.SetWriteDeadline(time.Time{})
	return c.commitErr
}

// CloseWrite commits, then half-closes: the peer reads EOF while reading
// here goes on. TCP and TLS connections can; others return an error
// wrapping errors.ErrUnsupported.
func (c *Conn) CloseWrite() error {
	if err := c.Commit(); err != nil {
		return err
	}
	hc, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("close write on %T: %w", c.Conn, errors.ErrUnsupported)
	}
	return hc.CloseWrite()
}
