package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/internal/testredis"
)

// TestEventActor: a write made with acl.WithActor names its actor in the
// events every subscriber receives; a write without one leaves it empty.
func TestEventActor(t *testing.T) {
	srv := testredis.Start(t)
	st := open(t, redisstore.Config{URL: srv.URL(), Prefix: newPrefix()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, err := range []error{
		st.CreateUser(ctx, acl.User{Name: "alice"}),
		st.CreateUser(ctx, acl.User{Name: "bob"}),
		st.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "ws", State: acl.StateRunning}),
		st.ApplyGrants(ctx, acl.WorkspaceID{Owner: "alice", Name: "ws"}, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	events, err := st.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next := func() acl.Event {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return acl.Event{}
	}
	as := acl.WithActor(ctx, "alice")
	if err := st.ApplyGrants(as, id, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleNone}}); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Kind != acl.EventGrantRemoved || ev.User != "bob" || ev.Actor != "alice" {
		t.Fatalf("unshare with actor: got %+v", ev)
	}
	if err := st.SetWorkspaceState(as, id, acl.StateStopped); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Kind != acl.EventWorkspaceStopped || ev.Actor != "alice" {
		t.Fatalf("stop with actor: got %+v", ev)
	}
	if err := st.SetUserSuspended(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Kind != acl.EventUserSuspended || ev.Actor != "" {
		t.Fatalf("suspend without actor: got %+v", ev)
	}
}
