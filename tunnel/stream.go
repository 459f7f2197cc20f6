package tunnel

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
)

// HalfCloser is implemented by every stream this package returns:
// CloseWrite sends EOF to the peer while reads go on until the peer's EOF.
type HalfCloser interface {
	CloseWrite() error
}

// CloseWrite half-closes c when it supports it (streams of this package,
// *net.TCPConn, *tls.Conn) and fully closes it otherwise.
func CloseWrite(c io.Closer) error {
	if hc, ok := c.(HalfCloser); ok {
		return hc.CloseWrite()
	}
	return c.Close()
}

// stream gives a yamux stream net.Conn closing semantics. A yamux
// Stream.Close only sends FIN: reads keep blocking until the peer closes too,
// which is a half-close. stream exposes that as CloseWrite and makes Close
// also end local reads.
type stream struct {
	*yamux.Stream
	live      *liveStreams // nil in tests that make streams by hand
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ net.Conn   = (*stream)(nil)
	_ HalfCloser = (*stream)(nil)
)

func newStream(s *yamux.Stream, live *liveStreams) *stream {
	st := &stream{Stream: s, live: live}
	if live != nil {
		live.add(st)
	}
	return st
}

// wake ends blocked and future reads and writes: the session is gone.
func (s *stream) wake() {
	_ = s.Stream.SetReadDeadline(pastDeadline)
	_ = s.Stream.SetWriteDeadline(pastDeadline)
}

// pastDeadline wakes blocked reads at once.
var pastDeadline = time.Unix(1, 0)

func (s *stream) Read(p []byte) (int, error) {
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	n, err := s.Stream.Read(p)
	if err != nil && s.closed.Load() {
		err = net.ErrClosed
	}
	return n, err
}

func (s *stream) Write(p []byte) (int, error) {
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	return s.Stream.Write(p)
}

// CloseWrite sends EOF to the peer; reading goes on until the peer's EOF.
func (s *stream) CloseWrite() error {
	return s.Stream.Close()
}

// Close ends both directions: the peer reads EOF and local reads, blocked or
// future, return net.ErrClosed.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		// Wake local readers first: yamux's Close waits for room in the
		// session's send queue, up to its write timeout when the peer has
		// stopped reading.
		_ = s.Stream.SetReadDeadline(pastDeadline)
		s.closeErr = s.Stream.Close()
		if s.live != nil {
			s.live.remove(s)
		}
	})
	return s.closeErr
}

func (s *stream) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

// SetReadDeadline must not undo the wake-up deadline Close installed.
func (s *stream) SetReadDeadline(t time.Time) error {
	if s.closed.Load() {
		return net.ErrClosed
	}
	return s.Stream.SetReadDeadline(t)
}
