package filestore

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// feed fans events out to subscribers. A writer never waits on a reader:
// each subscriber is a storekit.Sub, which drops what does not fit and owes
// that subscriber one EventResync.
type feed struct {
	buf  int
	now  func() time.Time
	log  *slog.Logger
	mu   sync.Mutex
	subs map[*storekit.Sub]struct{}
	done chan struct{} // closed once by close
	wg   sync.WaitGroup
}

func newFeed(buf int, now func() time.Time, log *slog.Logger) *feed {
	return &feed{buf: buf, now: now, log: log, subs: make(map[*storekit.Sub]struct{}), done: make(chan struct{})}
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
	s := storekit.NewSub(f.buf)
	f.subs[s] = struct{}{}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		s.Run(ctx, f.done, f.now, f.log)
		f.mu.Lock()
		delete(f.subs, s)
		f.mu.Unlock()
	}()
	return s.Events(), true
}

func (f *feed) publish(events []acl.Event) {
	if len(events) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		for _, ev := range events {
			s.Deliver(ev)
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
