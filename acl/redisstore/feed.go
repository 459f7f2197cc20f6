package redisstore

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// The subscriber below is the same as filestore's: a writer (here, the
// goroutine reading pub/sub) never waits on a reader; a full buffer drops
// the event and owes the reader one EventResync.

// sub is one subscriber's channel and its owed resync.
type sub struct {
	out    chan acl.Event
	kick   chan struct{} // cap 1: "a resync is owed"
	mu     sync.Mutex
	owed   bool
	closed bool
}

func newSub(buf int) *sub {
	return &sub{out: make(chan acl.Event, buf), kick: make(chan struct{}, 1)}
}

// deliver never blocks.
func (s *sub) deliver(ev acl.Event) {
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

// run delivers owed resyncs until ctx ends or done closes, then closes out.
func (s *sub) run(ctx context.Context, done <-chan struct{}, now func() time.Time, log *slog.Logger) {
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
