package storekit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 5 * time.Second

// clock is a fixed instant outside UTC, so the test sees Run convert it.
var clock = time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))

func now() time.Time { return clock }

// logBuf is a goroutine-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// run starts s.Run and returns a channel closed when it returns. The test
// ends by cancelling ctx and waiting for it.
func run(t *testing.T, s *storekit.Sub, done <-chan struct{}) (*logBuf, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	logs := &logBuf{}
	ctx, cancel := context.WithCancel(t.Context())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		s.Run(ctx, done, now, slog.New(slog.NewTextHandler(logs, nil)))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ended:
		case <-time.After(wait):
			t.Errorf("Run still running %v after ctx ended", wait)
		}
	})
	return logs, cancel, ended
}

func recv(t *testing.T, ch <-chan acl.Event) acl.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return ev
	case <-time.After(wait):
		t.Fatalf("no event within %v", wait)
	}
	return acl.Event{}
}

// wantClosed drains ch and requires it to close, returning what it held.
func wantClosed(t *testing.T, ch <-chan acl.Event) []acl.Event {
	t.Helper()
	var rest []acl.Event
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return rest
			}
			rest = append(rest, ev)
		case <-deadline:
			t.Fatalf("channel still open after %v", wait)
		}
	}
}

func user(name string) acl.Event { return acl.Event{Kind: acl.EventUserSuspended, User: name} }

var resync = acl.Event{Kind: acl.EventResync, At: clock.UTC()}

// wantEvents reads len(want) events from s and compares them in order,
// including the time and its location.
func wantEvents(t *testing.T, s *storekit.Sub, want ...acl.Event) {
	t.Helper()
	for i, w := range want {
		got := recv(t, s.Events())
		if got.Kind != w.Kind || got.User != w.User || !got.At.Equal(w.At) || got.At.Location() != w.At.Location() {
			t.Fatalf("event %d: got %+v, want %+v", i, got, w)
		}
	}
}

func TestSubDeliversInOrder(t *testing.T) {
	s := storekit.NewSub(4)
	logs, _, _ := run(t, s, nil)
	for _, n := range []string{"a", "b", "c"} {
		s.Deliver(user(n))
	}
	wantEvents(t, s, user("a"), user("b"), user("c"))
	if n := logs.count("fell behind"); n != 0 {
		t.Fatalf("%d warnings without a drop", n)
	}
}

func TestSubFullBufferDropsAndOwesOneResync(t *testing.T) {
	s := storekit.NewSub(2)
	// Five events into two slots before Run starts: three drops, one debt.
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		s.Deliver(user(n))
	}
	logs, _, _ := run(t, s, nil)
	wantEvents(t, s, user("a"), user("b"), resync)
	// The debt is paid: the next event is the next write, not a resync.
	s.Deliver(user("f"))
	wantEvents(t, s, user("f"))
	if n := logs.count("fell behind"); n != 1 {
		t.Fatalf("%d warnings, want 1", n)
	}
}

func TestSubResyncFollowsBacklogWhileRunning(t *testing.T) {
	s := storekit.NewSub(2)
	logs, _, _ := run(t, s, nil)
	s.Deliver(user("a"))
	s.Deliver(user("b"))
	s.Deliver(user("c")) // dropped
	wantEvents(t, s, user("a"), user("b"), resync)

	// A second overflow owes a second resync.
	s.Deliver(user("d"))
	s.Deliver(user("e"))
	s.Deliver(user("f")) // dropped
	wantEvents(t, s, user("d"), user("e"), resync)
	s.Deliver(user("g"))
	wantEvents(t, s, user("g"))
	if n := logs.count("fell behind"); n != 2 {
		t.Fatalf("%d warnings, want 2", n)
	}
}

func TestSubClosesWhenCtxEnds(t *testing.T) {
	s := storekit.NewSub(4)
	_, cancel, ended := run(t, s, nil)
	s.Deliver(user("a"))
	cancel()
	// What was queued is still readable, then the channel closes.
	if rest := wantClosed(t, s.Events()); len(rest) != 1 || rest[0].User != "a" {
		t.Fatalf("before close: %+v", rest)
	}
	<-ended
	s.Deliver(user("late")) // must neither panic nor block
}

func TestSubClosesWhenDoneCloses(t *testing.T) {
	s := storekit.NewSub(4)
	done := make(chan struct{})
	_, _, ended := run(t, s, done)
	close(done)
	if rest := wantClosed(t, s.Events()); len(rest) != 0 {
		t.Fatalf("events on an idle subscriber: %+v", rest)
	}
	<-ended
}

// A reader that never reads again must not keep Run waiting to hand over
// the resync it is owed.
func TestSubCtxEndsWhileResyncIsPending(t *testing.T) {
	s := storekit.NewSub(1)
	s.Deliver(user("a"))
	s.Deliver(user("b")) // dropped; the resync has nowhere to go
	logs, cancel, ended := run(t, s, nil)
	deadline := time.Now().Add(wait)
	for logs.count("fell behind") == 0 { // Run has taken the debt
		if time.Now().After(deadline) {
			t.Fatal("Run never took the owed resync")
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	cancel()
	select {
	case <-ended:
	case <-time.After(wait):
		t.Fatal("Run still blocked on the owed resync after ctx ended")
	}
	if rest := wantClosed(t, s.Events()); len(rest) != 1 || rest[0].User != "a" {
		t.Fatalf("after cancel: %+v", rest)
	}
}
