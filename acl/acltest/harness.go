package acltest

import (
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// Harness opens stores of one backend.
type Harness struct {
	// Open returns a new, empty store whose clock is now and whose
	// subscribers have EventBuffer slots. The backend closes it in
	// t.Cleanup unless Reopen replaced it.
	Open func(t *testing.T, now func() time.Time) acl.Store
	// Reopen closes st and opens the same data again through a new handle
	// (the file reopened, a new Redis client) with the same clock.
	Reopen func(t *testing.T, st acl.Store, now func() time.Time) acl.Store
	// EventBuffer is the subscriber buffer the stores are opened with; the
	// suite writes more than that to a reader that does not read.
	EventBuffer int
}

// Clock is a settable clock for stores under test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at a fixed instant with nanoseconds, so that backends
// must keep full time precision.
func NewClock() *Clock {
	return &Clock{now: time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// RunAt runs the suite on a backend whose stores live at a location (a
// file path, a key prefix) and builds the Harness from it: fresh names a
// new, empty location; open opens a store there (closing it in
// t.Cleanup); Reopen closes a store and opens its location again.
func RunAt(t *testing.T, eventBuffer int, fresh func(t *testing.T) string, open func(t *testing.T, at string, now func() time.Time) acl.Store) {
	var mu sync.Mutex
	where := map[acl.Store]string{}
	openAt := func(t *testing.T, at string, now func() time.Time) acl.Store {
		st := open(t, at, now)
		mu.Lock()
		where[st] = at
		mu.Unlock()
		return st
	}
	Run(t, Harness{
		Open: func(t *testing.T, now func() time.Time) acl.Store { return openAt(t, fresh(t), now) },
		Reopen: func(t *testing.T, old acl.Store, now func() time.Time) acl.Store {
			if err := old.Close(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			at := where[old]
			mu.Unlock()
			return openAt(t, at, now)
		},
		EventBuffer: eventBuffer,
	})
}
