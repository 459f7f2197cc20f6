package filestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
)

// TestEventActor: a write made with acl.WithActor names its actor in its
// events; a write without one leaves Actor empty.
func TestEventActor(t *testing.T) {
	st, err := filestore.New(filestore.Config{Path: filepath.Join(t.TempDir(), "wsgate.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	checkActor(t, st)
}

func checkActor(t *testing.T, st acl.Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, err := range []error{
		st.CreateUser(ctx, acl.User{Name: "alice"}),
		st.CreateUser(ctx, acl.User{Name: "bob"}),
		st.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "ws", State: acl.StateRunning}),
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
	if err := st.SetWorkspaceState(acl.WithActor(ctx, "alice"), id, acl.StateStopped); err != nil {
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
