package tunnel

import (
	"net"
	"sync"

	"github.com/hashicorp/yamux"
)

// liveStreams works around a spin in yamux v0.1.2 (hashicorp/yamux#176):
// a Read or Write blocked when its session shuts down loops, because the
// closed shutdown channel is always ready and the stream's own state only
// changes once Session.Close reaches it. With thousands of blocked streams
// the spinning goroutines starve that close for minutes (measured: 69 s for
// 2,000 idle sessions on 2 cores). yamux honours deadlines inside the loop,
// so every live stream gets a past deadline just before the session ends:
// when the connection under it fails (endConn, before yamux sees the error)
// or before this package closes it (closeSession). Then blocked calls return
// at once instead of spinning.
type liveStreams struct {
	mu    sync.Mutex
	m     map[*stream]struct{}
	ended bool
}

func newLiveStreams() *liveStreams { return &liveStreams{m: make(map[*stream]struct{})} }

// watch ends ls when sess ends in a way the other hooks did not see.
func (ls *liveStreams) watch(sess *yamux.Session) {
	go func() {
		<-sess.CloseChan()
		ls.end()
	}()
}

// closeSession wakes ls's streams, then closes sess.
func closeSession(sess *yamux.Session, ls *liveStreams) {
	ls.end()
	_ = sess.Close()
}

// endConn is the connection under a yamux session: its first failure, or
// its close, wakes the session's streams before yamux learns of it.
type endConn struct {
	net.Conn
	ls *liveStreams
	// heard, when set, is stamped with the time of each read that got
	// bytes: when the agent was last heard from (see takeover.go).
	heard *heardClock
}

func (c endConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.heard != nil {
		c.heard.stamp()
	}
	if err != nil {
		c.ls.end()
	}
	return n, err
}

func (c endConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.ls.end()
	}
	return n, err
}

func (c endConn) Close() error {
	c.ls.end()
	return c.Conn.Close()
}

// add tracks s; a stream of a session already ended is woken at once.
func (ls *liveStreams) add(s *stream) {
	ls.mu.Lock()
	if !ls.ended {
		ls.m[s] = struct{}{}
		ls.mu.Unlock()
		return
	}
	ls.mu.Unlock()
	s.wake()
}

func (ls *liveStreams) remove(s *stream) {
	ls.mu.Lock()
	delete(ls.m, s)
	ls.mu.Unlock()
}

func (ls *liveStreams) end() {
	ls.mu.Lock()
	if ls.ended {
		ls.mu.Unlock()
		return
	}
	ls.ended = true
	streams := ls.m
	ls.m = nil
	ls.mu.Unlock()
	for s := range streams {
		s.wake()
	}
}
