package filestore

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// feed fans events out to subscribers. A writer never waits on a reader:
// when a subscriber's buffer is full the event is dropped and that
// subscriber is owed one EventResync, delivered as soon as it reads again.
type feed struct {
	buf  int
	now  func() time.Time
	log  *slog.Logger
	mu   sync.Mutex
	subs map[*sub]struct{}
	done chan struct{} // closed once by close
	wg   sync.WaitGroup
}

func newFeed(buf int, now func() time.Time, log *slog.Logger) *feed {
	return &feed{buf: buf, now: now, log: log, subs: make(map[*sub]struct{}), done: make(chan struct{})}
}

// subscribe registers a subscriber until ctx ends or the feed closes; false
// when the feed is already closed.
func (f *feed) subscribe(ctx context.Context) (<-chan acl.Event, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.done:
		return nil, false
	default:
	}
	s := newSub(f.buf)
	f.subs[s] = struct{}{}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		s.run(ctx, f.done, f.now, f.log)
		f.mu.Lock()
		delete(f.subs, s)
		f.mu.Unlock()
	}()
	return s.out, true
}

func (f *feed) publish(events []acl.Event) {
	if len(events) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		for _, ev := range events {
			s.deliver(ev)
		}
	}
}

// close ends every subscription and waits for their goroutines.
func (f *feed) close() {
	f.mu.Lock()
	select {
	case <-f.done:
	default:
		close(f.done)
	}
	f.mu.Unlock()
	f.wg.Wait()
}

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
