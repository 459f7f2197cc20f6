package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
)

// TestSweeperDropsAtExpiry: a live session on a grant that expires is
// dropped with the expiry message right at the expiry, not at the next
// periodic sweep; the owner's session stays.
func TestSweeperDropsAtExpiry(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	// A long interval proves the sweeper wakes for the session's expiry.
	e.startRevoker(revoke.Config{SweepInterval: time.Hour})
	expiry := time.Now().Add(1500 * time.Millisecond)
	must(t, e.store.ApplyGrants(context.Background(), aliceWS, []acl.GrantChange{
		{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse, ExpiresAt: expiry},
	}))
	bob := startLive(t, e.mustDial("bob", "alice/alice-ws"))
	alice := startLive(t, e.mustDial("alice", "alice-ws"))
	bob.expectDropped(t, "bob", "your access to alice/alice-ws expired")
	if late := time.Since(expiry); late < 0 || late > time.Second {
		t.Fatalf("dropped %v after the expiry, want within a second", late)
	}
	alice.expectAlive(t, "alice")
	// The grant is gone from the store, not just ignored.
	grants, err := e.store.ListGrants(context.Background(), aliceWS)
	must(t, err)
	if len(grants) != 0 {
		t.Fatalf("grants after expiry: %+v", grants)
	}
}

// TestSweeperAtStart: a grant that expired while no gateway ran is removed,
// with its event, as soon as a Revoker starts.
func TestSweeperAtStart(t *testing.T) {
	e := newEnv(t)
	expiry := time.Now().Add(200 * time.Millisecond)
	must(t, e.store.ApplyGrants(context.Background(), aliceWS, []acl.GrantChange{
		{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse, ExpiresAt: expiry},
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events, err := e.store.Subscribe(ctx)
	must(t, err)
	for time.Now().Before(expiry.Add(10 * time.Millisecond)) {
		time.Sleep(10 * time.Millisecond) // wait out the expiry: nothing to synchronise with
	}
	e.startRevoker(revoke.Config{SweepInterval: time.Hour})
	select {
	case ev := <-events:
		want := acl.Event{Kind: acl.EventGrantExpired, Workspace: aliceWS, WorkspaceUID: e.uid(aliceWS.String()), User: "bob"}
		ev.At = time.Time{}
		if ev != want {
			t.Fatalf("event %+v, want %+v", ev, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the expired grant was not removed at start")
	}
}
