package tunnel

import (
	"sync"

	"github.com/hashicorp/yamux"
)

// liveStreams works around a spin in yamux v0.1.2 (hashicorp/yamux#176):
// a Read or Write blocked when its session shuts down loops, because the
// closed shutdown channel is always ready and the stream's own state only
// changes once Session.Close reaches it. With thousands of blocked streams
// the spinning goroutines starve that close for minutes (measured: 69 s for
// 2,000 idle sessions on 2 cores). yamux honours deadlines inside the loop,
// so when the session ends every live stream gets a past deadline and its
// blocked calls return at once.
type liveStreams struct {
	mu    sync.Mutex
	m     map[*stream]struct{}
	ended bool
}

// watchStreams returns the set of sess's streams, woken when sess ends.
func watchStreams(sess *yamux.Session) *liveStreams {
	ls := &liveStreams{m: make(map[*stream]struct{})}
	go func() {
		<-sess.CloseChan()
		ls.end()
	}()
	return ls
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
	ls.ended = true
	streams := ls.m
	ls.m = nil
	ls.mu.Unlock()
	for s := range streams {
		s.wake()
	}
}
