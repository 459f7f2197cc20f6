package access

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
)

func TestOthersWhoCanConnect(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	w := acl.Workspace{Owner: "alice", Name: "ws"}
	user := func(n string, r acl.Role) acl.Grant {
		return acl.Grant{Kind: acl.SubjectUser, Subject: n, Role: r}
	}
	group := func(n string, r acl.Role) acl.Grant {
		return acl.Grant{Kind: acl.SubjectGroup, Subject: n, Role: r}
	}
	expired := user("eve", acl.RoleUse)
	expired.ExpiresAt = now
	later := user("fay", acl.RoleUse)
	later.ExpiresAt = now.Add(time.Hour)
	members := map[string][]string{"devs": {"bob", "carol", "alice"}, "ops": {"dan"}}
	for _, tc := range []struct {
		name       string
		asker      string
		grants     []acl.Grant
		sharingOff bool
		want       int
	}{
		{"owner alone", "alice", nil, false, 0},
		{"owner, one use grant", "alice", []acl.Grant{user("bob", acl.RoleUse)}, false, 1},
		{"grantee asks: the owner counts", "bob", []acl.Grant{user("bob", acl.RoleUse)}, false, 1},
		{"admin grant counts", "alice", []acl.Grant{user("bob", acl.RoleAdmin)}, false, 1},
		{"group members, owner and duplicates once", "alice", []acl.Grant{group("devs", acl.RoleUse), user("bob", acl.RoleUse)}, false, 2},
		{"two groups", "alice", []acl.Grant{group("devs", acl.RoleUse), group("ops", acl.RoleAdmin)}, false, 3},
		{"unknown group reaches no one", "alice", []acl.Grant{group("gone", acl.RoleUse)}, false, 0},
		{"expired grant left out, live expiry kept", "alice", []acl.Grant{expired, later}, false, 1},
		{"sharing disabled: only the owner", "bob", []acl.Grant{user("bob", acl.RoleUse), user("carol", acl.RoleUse)}, true, 1},
		{"sharing disabled, owner asks", "alice", []acl.Grant{group("devs", acl.RoleUse)}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OthersWhoCanConnect(w, tc.grants, members, tc.asker, tc.sharingOff, now); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestReachReadsTheStore: settings and the count come from the store as it
// is now, through group membership, and a workspace of another UID is not
// found.
func TestReachReadsTheStore(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	must(t, st.CreateUser(ctx, acl.User{Name: "carol"}))
	must(t, st.CreateGroup(ctx, acl.Group{Name: "devs", Members: []string{"carol", "bob"}}))
	a, err := New(Config{Store: st})
	must(t, err)
	w, err := st.GetWorkspace(ctx, aliceWS)
	must(t, err)

	r, err := a.Reach(ctx, "alice", aliceWS, w.UID)
	must(t, err)
	if r.Others != 0 || r.Settings.AgentForwarding {
		t.Fatalf("unshared: %+v", r)
	}
	must(t, st.ApplyGrants(ctx, aliceWS, []acl.GrantChange{{Kind: acl.SubjectGroup, Subject: "devs", Role: acl.RoleUse}}))
	must(t, st.SetWorkspaceSettings(ctx, aliceWS, acl.WorkspaceSettings{AgentForwarding: true}))
	r, err = a.Reach(ctx, "alice", aliceWS, w.UID)
	must(t, err)
	if r.Others != 2 || !r.Settings.AgentForwarding {
		t.Fatalf("shared with devs: %+v", r)
	}
	if _, err := a.Reach(ctx, "alice", aliceWS, "another-uid"); !errors.Is(err, acl.ErrNotFound) {
		t.Fatalf("other uid: %v", err)
	}
}
