package sessions

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// awaitTeardown runs r.AwaitTeardown and returns a channel closed when it
// returned.
func awaitTeardown(r *Registry) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.AwaitTeardown()
	}()
	return done
}

// stillWaiting fails t if done is closed after a moment: the wait must
// hold while something is held.
func stillWaiting(t *testing.T, what string, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
		t.Fatalf("teardown went ahead while %s", what)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestTeardownWaitsForEveryDropToBeTold(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	<-awaitTeardown(r) // nothing held: at once

	a := New(context.Background(), info("a", "alice", "ws1"), 0, time.Time{})
	b := New(context.Background(), info("b", "bob", "ws1"), 0, time.Time{})
	r.Track(a)
	r.Track(b)
	release := r.HoldTeardown() // a revoker still deciding
	if !a.Cut("revoked") || !b.Cut("revoked") {
		t.Fatal("first Cut reported false")
	}
	if a.Cut("again") {
		t.Fatal("second Cut reported true")
	}
	if n := held(r); n != 3 {
		t.Fatalf("%d holds, want 3 (the revoker, alice, bob)", n)
	}
	if msg, ok := DropMessage(a.Context()); !ok || msg != "revoked" {
		t.Fatalf("drop message %q %v", msg, ok)
	}

	done := awaitTeardown(r)
	a.Told()
	stillWaiting(t, "bob was untold and the revoker held", done)
	release()
	stillWaiting(t, "bob was untold", done)
	b.End() // an owner that ends without telling releases too
	testutil.Eventually(t, "teardown after every drop was told", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	release() // twice: no effect
	<-awaitTeardown(r)
}

func TestTeardownWaitIsBounded(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	release := r.HoldTeardown()
	defer release()
	start := time.Now()
	<-awaitTeardown(r)
	if waited := time.Since(start); waited < MaxTeardownDelay/2 {
		t.Fatalf("teardown waited %v for a hold never released, want about %v", waited, MaxTeardownDelay)
	}
}

func TestCutAfterEndHoldsNothing(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	s := New(context.Background(), info("a", "alice", "ws1"), 0, time.Time{})
	r.Track(s)
	s.End()
	s.Cut("revoked") // the owner is gone: nobody would say Told
	if n := held(r); n != 0 {
		t.Fatalf("%d holds after a Cut of an ended session, want 0", n)
	}
}

// held is how many holds delay teardowns.
func held(r *Registry) int {
	r.tell.mu.Lock()
	defer r.tell.mu.Unlock()
	return r.tell.n
}

func TestTeardownWaitsForTheUsersClose(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	a := New(context.Background(), info("a", "alice", "ws1"), 0, time.Time{})
	b := New(context.Background(), info("b", "bob", "ws1"), 0, time.Time{})
	r.Track(a)
	r.Track(b)
	a.Cut("revoked")
	b.Cut("revoked")
	b.Told() // bob was told and has closed

	// alice was told; her owner waits for her close before saying Told,
	// and the teardowns wait for that.
	aliceClosed := make(chan struct{})
	aliceDone := make(chan struct{})
	go func() {
		defer close(aliceDone)
		r.AwaitUserClose(aliceClosed)
		a.Told()
	}()
	teardown := awaitTeardown(r)
	stillWaiting(t, "alice had not closed", teardown)
	close(aliceClosed)
	<-aliceDone
	testutil.Eventually(t, "teardown after alice closed", func() bool {
		select {
		case <-teardown:
			return true
		default:
			return false
		}
	})
}

func TestWaitForTheUsersCloseIsBounded(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	r.AwaitUserClose(make(chan struct{})) // no storm yet: nothing to wait for
	s := New(context.Background(), info("a", "alice", "ws1"), 0, time.Time{})
	r.Track(s)
	start := time.Now()
	s.Cut("revoked")
	r.AwaitUserClose(make(chan struct{})) // a user who never closes
	s.Told()
	if waited := time.Since(start); waited < MaxTeardownDelay/2 || waited > 5*MaxTeardownDelay {
		t.Fatalf("the wait for a user who never closed took %v, want about %v", waited, MaxTeardownDelay)
	}
	// After the storm, its bound still holds.
	start = time.Now()
	r.AwaitUserClose(make(chan struct{}))
	if waited := time.Since(start); waited > MaxTeardownDelay/2 {
		t.Fatalf("a wait after the storm's bound took %v", waited)
	}
}
