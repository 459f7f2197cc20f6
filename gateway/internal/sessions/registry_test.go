package sessions

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsgate/wsgate/acl"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newTestRegistry(t *testing.T, gen *atomic.Uint64) *Registry {
	t.Helper()
	r, err := NewRegistry(Config{Gen: gen.Load})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func info(id, user, uid string) Info {
	return Info{ID: id, Identity: acl.Identity{User: user, KeyFingerprint: "fp-" + user}, WorkspaceUID: uid, Started: time.Now()}
}

func TestNewRegistryNeedsGen(t *testing.T) {
	if _, err := NewRegistry(Config{}); err == nil {
		t.Fatal("registry without Gen accepted")
	}
}

func TestIndexes(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	a := New(context.Background(), info("a", "alice", "ws1"), 0, time.Time{})
	b := New(context.Background(), info("b", "bob", "ws1"), 0, time.Time{})
	tok := info("c", "bob", "ws2")
	tok.TokenID, tok.KeyFingerprint = "t1", ""
	c := New(context.Background(), tok, 0, time.Time{})
	app := info("d", "bob", "ws2")
	app.AppPort = 3000
	d := New(context.Background(), app, 0, time.Time{})
	for _, s := range []*Session{a, b, c, d} {
		if !r.Track(s) {
			t.Fatal("Track refused")
		}
	}
	checks := map[string]int{
		"ws1": len(r.OnWorkspace("ws1")), "ws2": len(r.OnWorkspace("ws2")),
		"bob": len(r.OfUser("bob")), "key": len(r.WithKey("fp-alice")), "token": len(r.WithToken("t1")),
		"conns": len(r.Connections("")), "conns ws2": len(r.Connections("ws2")),
	}
	want := map[string]int{"ws1": 2, "ws2": 2, "bob": 3, "key": 1, "token": 1, "conns": 3, "conns ws2": 1}
	for k, n := range want {
		if checks[k] != n {
			t.Errorf("%s: %d sessions, want %d", k, checks[k], n)
		}
	}
	r.Untrack(b)
	r.Untrack(b) // twice is harmless
	if r.Len() != 3 || len(r.OfUser("bob")) != 2 || r.Get("b") != nil {
		t.Fatalf("after untrack: len %d, bob %d", r.Len(), len(r.OfUser("bob")))
	}
}

// TestStaleSessionsQueued: a session authorized before the latest
// invalidation is queued for a re-check when tracked; a fresh one is not.
func TestStaleSessionsQueued(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	stale := New(context.Background(), info("stale", "bob", "ws"), gen.Load(), time.Time{})
	gen.Add(1)
	fresh := New(context.Background(), info("fresh", "bob", "ws"), gen.Load(), time.Time{})
	r.Track(stale)
	r.Track(fresh)
	select {
	case <-r.Stale():
	default:
		t.Fatal("no stale signal")
	}
	got := r.TakeStale()
	if len(got) != 1 || got[0] != stale {
		t.Fatalf("stale %v, want [stale]", got)
	}
	if len(r.TakeStale()) != 0 {
		t.Fatal("stale sessions returned twice")
	}
}

func TestExpiringSignalled(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	exp := time.Now().Add(time.Hour)
	r.Track(New(context.Background(), info("a", "bob", "ws"), 0, time.Time{}))
	select {
	case <-r.Expiring():
		t.Fatal("signalled for a session without expiry")
	default:
	}
	r.Track(New(context.Background(), info("b", "bob", "ws"), 0, exp))
	select {
	case <-r.Expiring():
	default:
		t.Fatal("no expiry signal")
	}
	if got := r.NextExpiry(time.Now()); !got.Equal(exp) {
		t.Fatalf("next expiry %v, want %v", got, exp)
	}
}

// TestDropCarriesReason: Drop cancels the session's context with the
// message as its cause, once, and waits for the owner's End.
func TestDropCarriesReason(t *testing.T) {
	s := New(context.Background(), info("a", "bob", "ws"), 0, time.Time{})
	// ending is set just before End, so Drop cannot have returned
	// without it (a channel closed after End would race with Drop's return).
	var ending atomic.Bool
	go func() {
		<-s.Context().Done()
		if msg, ok := DropMessage(s.Context()); !ok || msg != "access to x was revoked" {
			t.Errorf("drop message %q %v", msg, ok)
		}
		time.Sleep(20 * time.Millisecond)
		ending.Store(true)
		s.End()
	}()
	if !s.Drop("access to x was revoked", 5*time.Second) {
		t.Fatal("first Drop reported false")
	}
	if !ending.Load() {
		t.Fatal("Drop returned before End")
	}
	if s.Drop("again", time.Second) {
		t.Fatal("second Drop reported true")
	}
	// Ending without a drop carries no message.
	s2 := New(context.Background(), info("b", "bob", "ws"), 0, time.Time{})
	s2.End()
	if _, ok := DropMessage(s2.Context()); ok {
		t.Fatal("ended session reads as dropped")
	}
}

func TestCloseRefusesAndDropAll(t *testing.T) {
	var gen atomic.Uint64
	r := newTestRegistry(t, &gen)
	s := New(context.Background(), info("a", "bob", "ws"), 0, time.Time{})
	r.Track(s)
	go func() {
		<-s.Context().Done()
		s.End()
	}()
	r.DropAll("the gateway is shutting down", 5*time.Second)
	if msg, _ := DropMessage(s.Context()); msg != "the gateway is shutting down" {
		t.Fatalf("message %q", msg)
	}
	if r.Track(New(context.Background(), info("b", "bob", "ws"), 0, time.Time{})) {
		t.Fatal("closed registry tracked a session")
	}
}
