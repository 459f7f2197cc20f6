package sshfront

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/gateway/internal/edge"
	"golang.org/x/crypto/ssh"
)

// watchIdle closes the connection once it has had no channel open and no
// traffic for IdleTimeout. It is a timer, not a goroutine, so an idle
// connection pays nothing for it; stop ends the watch.
func (s *Server) watchIdle(cs *connState, sc ssh.Conn) (stop func()) {
	idle := s.cfg.IdleTimeout
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
	)
	// t is written under mu: the callback reads it under mu.
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(idle, func() {
		mu.Lock()
		if stopped {
			mu.Unlock()
			return
		}
		quiet := cs.quietFor()
		if cs.openChannels.Load() != 0 || quiet < idle {
			t.Reset(max(idle-quiet, idle/10, time.Millisecond))
			mu.Unlock()
			return
		}
		mu.Unlock()
		s.log.Info("ssh connection idle; closing", "remote", cs.RemoteAddr().String(), "idle", quiet.Round(time.Second))
		_ = sc.Close()
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

// connState is the raw connection with what the idle timeout needs: the
// time of the last traffic and the number of open channels.
type connState struct {
	net.Conn
	lastActive   atomic.Int64 // unix nanoseconds
	openChannels atomic.Int64

	halted     atomic.Bool   // reads discard, then wait for closed and fail
	userClosed chan struct{} // closed when a halted read saw the user's side end
	closed     chan struct{} // closed by Close
	userOnce   sync.Once
	closeOnce  sync.Once
}

func newConnState(c net.Conn) *connState {
	cs := &connState{Conn: c, userClosed: make(chan struct{}), closed: make(chan struct{})}
	cs.touch()
	return cs
}

func (c *connState) touch() { c.lastActive.Store(time.Now().UnixNano()) }

func (c *connState) quietFor() time.Duration {
	return time.Duration(time.Now().UnixNano() - c.lastActive.Load())
}

func (c *connState) channelClosed() {
	c.touch()
	c.openChannels.Add(-1)
}

// haltReads makes the connection pass nothing more from its user on: what
// the user still sends is read and discarded until the user's side ends
// (UserClosed), and a read then waits until the connection is closed, and
// fails. A dropped session stops here, with its teardown left for Close:
// the client's reaction to the end of the stream (its own close) must not
// start it early. Reading on keeps unread bytes from turning the close
// into a reset, which some systems answer by discarding what their user
// has not read yet: the message.
func (c *connState) haltReads() { c.halted.Store(true) }

// UserClosed is closed once the user's side of a halted connection ended,
// or there is no such end to wait for (userGone).
func (c *connState) UserClosed() <-chan struct{} { return c.userClosed }

func (c *connState) userGone() { c.userOnce.Do(func() { close(c.userClosed) }) }

// Close closes the connection and ends halted reads.
func (c *connState) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { close(c.closed) })
	return err
}

func (c *connState) Read(b []byte) (int, error) {
	if !c.halted.Load() {
		n, err := c.Conn.Read(b)
		if !c.halted.Load() {
			if n > 0 {
				c.touch()
			}
			return n, err
		}
	}
	// The caller's buffer, never handed to it again, does for discarding.
	if len(b) == 0 {
		b = make([]byte, 512)
	}
	for {
		if _, err := c.Conn.Read(b); err != nil {
			break
		}
	}
	c.userGone()
	<-c.closed
	return 0, net.ErrClosed
}

// CloseWrite half-closes the connection when it can.
func (c *connState) CloseWrite() error { return edge.CloseWrite(c.Conn) }

func (c *connState) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.touch()
	}
	return n, err
}
