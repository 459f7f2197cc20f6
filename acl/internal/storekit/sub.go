package storekit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// Sub is one subscriber's buffered event channel. A writer never waits on
// the reader: when the buffer is full the event is dropped and the reader
// is owed one acl.EventResync, which Run delivers as soon as there is room.
// Drops that happen before Run has taken the debt share one resync.
type Sub struct {
	out    chan acl.Event
	kick   chan struct{} // cap 1: "a resync is owed"
	mu     sync.Mutex
	owed   bool
	closed bool
}

// NewSub returns a subscriber whose channel holds buf events.
func NewSub(buf int) *Sub {
	return &Sub{out: make(chan acl.Event, buf), kick: make(chan struct{}, 1)}
}

// Events is the reader's side; Run closes it when it returns.
func (s *Sub) Events() <-chan acl.Event { return s.out }

// Deliver queues ev, or drops it and owes a resync; it never blocks and is
// a no-op once Run has returned.
func (s *Sub) Deliver(ev acl.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.out <- ev:
	default:
		s.owed = true
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// Run delivers owed resyncs, stamped with now().UTC(), until ctx ends or
// done closes, then closes the channel. Call it once, in its own goroutine.
func (s *Sub) Run(ctx context.Context, done <-chan struct{}, now func() time.Time, log *slog.Logger) {
	defer func() {
		s.mu.Lock()
		s.closed = true
		close(s.out)
		s.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-s.kick:
		}
		s.mu.Lock()
		owed := s.owed
		s.owed = false // drops from here on owe another resync
		s.mu.Unlock()
		if !owed {
			continue
		}
		log.Warn("event subscriber fell behind; events dropped, resync owed")
		select {
		case s.out <- acl.Event{Kind: acl.EventResync, At: now().UTC()}:
		case <-ctx.Done():
			return
		case <-done:
			return
		}
	}
}
