package sessions

import (
	"sync"
	"time"
)

// MaxTeardownDelay bounds how long a told session's teardown waits for
// the other drops of a storm to be told.
const MaxTeardownDelay = 500 * time.Millisecond

// tellFirst orders a storm of drops: while some dropped session has not yet
// told its user why (or the revoker is still deciding whom to drop), the
// connections already told wait before tearing down. A user's part of a
// drop (the message, the end of the stream) is a few system calls; the
// teardown behind it (the connection's goroutines, its streams to the
// agent, the agent's side) is several times that, and on a busy gateway
// 500 teardowns would otherwise compete with the users still to be told.
//
// A storm is the time from the first hold to the moment none is left; the
// wait ends with the storm, or max after it began: one timer a storm, not
// one a waiter.
type tellFirst struct {
	max time.Duration

	mu      sync.Mutex
	n       int
	idle    chan struct{} // closed while n == 0
	expired chan struct{} // closed max after the storm began
}

func newTellFirst(max time.Duration) *tellFirst {
	idle := make(chan struct{})
	close(idle)
	return &tellFirst{max: max, idle: idle}
}

// hold delays teardowns until release is called (it may be called more
// than once).
func (g *tellFirst) hold() (release func()) {
	g.mu.Lock()
	if g.n == 0 {
		g.idle = make(chan struct{})
		expired := make(chan struct{})
		g.expired = expired
		time.AfterFunc(g.max, func() { close(expired) })
	}
	g.n++
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			if g.n--; g.n == 0 {
				// The timer keeps running: it bounds the waits for
				// users' closes (within) that may outlast the storm.
				close(g.idle)
			}
			g.mu.Unlock()
		})
	}
}

// wait returns once nothing is held, or once the storm is max old.
func (g *tellFirst) wait() {
	g.mu.Lock()
	idle, expired := g.idle, g.expired
	g.mu.Unlock()
	select {
	case <-idle:
	case <-expired:
	}
}

// within returns once ch is closed, or once the storm is max old (at once
// before the first storm).
func (g *tellFirst) within(ch <-chan struct{}) {
	g.mu.Lock()
	expired := g.expired
	g.mu.Unlock()
	if expired == nil {
		return
	}
	select {
	case <-ch:
	case <-expired:
	}
}
