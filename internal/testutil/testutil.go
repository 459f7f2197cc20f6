// Package testutil holds helpers shared by the tests of every package. It
// imports only the standard library, so that even the leaf packages (acl,
// tunnel) may use it from their tests.
package testutil

import (
	"bytes"
	"sync"
	"testing"
	"time"
)

// DefaultTimeout is how long Eventually waits.
const DefaultTimeout = 10 * time.Second

// Eventually polls cond until it holds, failing t after DefaultTimeout with
// "timed out waiting for <what>".
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitFor(t, DefaultTimeout, what, cond)
}

// WaitFor is Eventually with its own timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Clock is a time that tests set and move by hand; pass its Now as a
// component's clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Buffer is a bytes.Buffer safe for concurrent writers and readers: a log
// destination or a process's output in tests.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
