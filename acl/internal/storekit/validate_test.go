package storekit_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// wantErr checks err against a sentinel (nil: no error) and a word its
// message must hold.
func wantErr(t *testing.T, what string, err, sentinel error, mention string) {
	t.Helper()
	if sentinel == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got %v, want %v", what, err, sentinel)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Fatalf("%s: error %q does not mention %q", what, err, mention)
	}
}

func TestValidChanges(t *testing.T) {
	id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	user := func(name string, r acl.Role) acl.GrantChange {
		return acl.GrantChange{Kind: acl.SubjectUser, Subject: name, Role: r}
	}
	expiring := func(at time.Time) acl.GrantChange {
		c := user("bob", acl.RoleUse)
		c.ExpiresAt = at
		return c
	}
	for _, tc := range []struct {
		name    string
		changes []acl.GrantChange
		mention string // "" when the batch is valid
	}{
		{"empty", nil, ""},
		{"use, admin and removal", []acl.GrantChange{user("bob", acl.RoleUse), {Kind: acl.SubjectGroup, Subject: "devs", Role: acl.RoleAdmin}, user("carol", acl.RoleNone)}, ""},
		{"same name as user and group", []acl.GrantChange{user("devs", acl.RoleUse), {Kind: acl.SubjectGroup, Subject: "devs", Role: acl.RoleUse}}, ""},
		{"unknown kind", []acl.GrantChange{{Kind: 7, Subject: "bob", Role: acl.RoleUse}}, "kind"},
		{"bad name", []acl.GrantChange{user("Bob", acl.RoleUse)}, "Bob"},
		{"owner role", []acl.GrantChange{user("bob", acl.RoleOwner)}, "expected use or admin"},
		{"unknown role", []acl.GrantChange{user("bob", acl.Role(9))}, "expected use or admin"},
		{"the owner", []acl.GrantChange{user("alice", acl.RoleUse)}, "owns"},
		{"the owner, removal", []acl.GrantChange{user("alice", acl.RoleNone)}, "owns"},
		{"named twice", []acl.GrantChange{user("bob", acl.RoleUse), user("bob", acl.RoleNone)}, "twice"},
		{"expiry at the lower bound", []acl.GrantChange{expiring(storekit.MinExpiry)}, ""},
		{"expiry before 1970", []acl.GrantChange{expiring(storekit.MinExpiry.Add(-time.Nanosecond))}, "expires_at"},
		{"expiry just below the upper bound", []acl.GrantChange{expiring(storekit.MaxExpiry.Add(-time.Nanosecond))}, ""},
		{"expiry at the upper bound", []acl.GrantChange{expiring(storekit.MaxExpiry)}, "expires_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sentinel error
			if tc.mention != "" {
				sentinel = acl.ErrInvalid
			}
			wantErr(t, "ValidChanges", storekit.ValidChanges(id, tc.changes), sentinel, tc.mention)
		})
	}
}

func TestCheckNewUser(t *testing.T) {
	k := func(fp string) acl.PublicKey {
		return acl.PublicKey{Fingerprint: fp, AuthorizedKey: "ssh-ed25519 AAAA"}
	}
	for _, tc := range []struct {
		name     string
		u        acl.User
		sentinel error
		mention  string
	}{
		{"plain", acl.User{Name: "bob"}, nil, ""},
		{"org and keys", acl.User{Name: "bob", Org: "acme", Keys: []acl.PublicKey{k("a"), k("b")}}, nil, ""},
		{"bad name", acl.User{Name: "Bob"}, acl.ErrInvalid, "user name"},
		{"bad org", acl.User{Name: "bob", Org: "Ac me"}, acl.ErrInvalid, "org name"},
		{"key without fingerprint", acl.User{Name: "bob", Keys: []acl.PublicKey{{AuthorizedKey: "x"}}}, acl.ErrInvalid, "fingerprint"},
		{"key without key", acl.User{Name: "bob", Keys: []acl.PublicKey{{Fingerprint: "a"}}}, acl.ErrInvalid, "authorized_key"},
		{"key twice", acl.User{Name: "bob", Keys: []acl.PublicKey{k("a"), k("a")}}, acl.ErrConflict, "listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, "CheckNewUser", storekit.CheckNewUser(tc.u), tc.sentinel, tc.mention)
		})
	}
}

func TestCheckNewGroup(t *testing.T) {
	in := []string{"carol", "bob", "carol"}
	members, err := storekit.CheckNewGroup(acl.Group{Name: "devs", Org: "acme", Members: in})
	wantErr(t, "CheckNewGroup", err, nil, "")
	if want := []string{"bob", "carol"}; !reflect.DeepEqual(members, want) {
		t.Fatalf("members %q, want %q", members, want)
	}
	if !reflect.DeepEqual(in, []string{"carol", "bob", "carol"}) {
		t.Fatalf("caller's members changed: %q", in)
	}
	_, err = storekit.CheckNewGroup(acl.Group{Name: "Devs"})
	wantErr(t, "bad name", err, acl.ErrInvalid, "group name")
	_, err = storekit.CheckNewGroup(acl.Group{Name: "devs", Org: "-x"})
	wantErr(t, "bad org", err, acl.ErrInvalid, "org name")
}

func TestCheckNewWorkspace(t *testing.T) {
	ws, err := storekit.CheckNewWorkspace(acl.Workspace{Owner: "alice", Name: "ws"})
	wantErr(t, "no state", err, nil, "")
	if ws.State != acl.StateStopped {
		t.Fatalf("default state %q, want stopped", ws.State)
	}
	if acl.ValidateUID(ws.UID) != nil {
		t.Fatalf("assigned uid %q", ws.UID)
	}
	again, _ := storekit.CheckNewWorkspace(acl.Workspace{Owner: "alice", Name: "ws"})
	if again.UID == ws.UID {
		t.Fatalf("two workspaces got uid %q", ws.UID)
	}
	ws, err = storekit.CheckNewWorkspace(acl.Workspace{UID: "mine-1", Owner: "alice", Name: "ws"})
	wantErr(t, "given uid", err, nil, "")
	if ws.UID != "mine-1" {
		t.Fatalf("given uid became %q", ws.UID)
	}
	ws, err = storekit.CheckNewWorkspace(acl.Workspace{Owner: "alice", Name: "ws", State: acl.StateRunning})
	wantErr(t, "running", err, nil, "")
	if ws.State != acl.StateRunning {
		t.Fatalf("state %q, want running", ws.State)
	}
	for _, tc := range []struct {
		name    string
		ws      acl.Workspace
		mention string
	}{
		{"bad owner", acl.Workspace{Owner: "A", Name: "ws"}, "user name"},
		{"bad name", acl.Workspace{Owner: "alice", Name: "My WS"}, "workspace name"},
		{"bad org", acl.Workspace{Owner: "alice", Name: "ws", Org: "a b"}, "org name"},
		{"bad state", acl.Workspace{Owner: "alice", Name: "ws", State: "paused"}, "paused"},
		{"bad uid", acl.Workspace{UID: "a b", Owner: "alice", Name: "ws"}, "uid"},
	} {
		_, err := storekit.CheckNewWorkspace(tc.ws)
		wantErr(t, tc.name, err, acl.ErrInvalid, tc.mention)
	}
}

func TestCheckNewToken(t *testing.T) {
	wantErr(t, "valid", storekit.CheckNewToken(acl.Token{ID: "t1", User: "bob", Hash: "h"}), nil, "")
	wantErr(t, "no id", storekit.CheckNewToken(acl.Token{User: "bob", Hash: "h"}), acl.ErrInvalid, "id")
	wantErr(t, "no hash", storekit.CheckNewToken(acl.Token{ID: "t1", User: "bob"}), acl.ErrInvalid, "hash")
	wantErr(t, "impossible user", storekit.CheckNewToken(acl.Token{ID: "t1", User: "B:b", Hash: "h"}), acl.ErrNotFound, "B:b")
}

// Reads answer "not found", never "invalid", for names that cannot exist.
func TestLookup(t *testing.T) {
	wantErr(t, "valid name", storekit.LookupName("user", "bob"), nil, "")
	wantErr(t, "invalid name", storekit.LookupName("user", "Not:Valid"), acl.ErrNotFound, "Not:Valid")
	wantErr(t, "valid id", storekit.LookupID(acl.WorkspaceID{Owner: "alice", Name: "ws"}), nil, "")
	wantErr(t, "invalid owner", storekit.LookupID(acl.WorkspaceID{Owner: "a:b", Name: "c"}), acl.ErrNotFound, "a:b/c")
	wantErr(t, "invalid name", storekit.LookupID(acl.WorkspaceID{Owner: "alice", Name: "A B"}), acl.ErrNotFound, "alice/A B")
	wantErr(t, "valid uid", storekit.LookupUID("0123abcd"), nil, "")
	wantErr(t, "empty uid", storekit.LookupUID(""), acl.ErrNotFound, "workspace")
	wantErr(t, "invalid uid", storekit.LookupUID("a b"), acl.ErrNotFound, "a b")
	wantErr(t, "valid membership", storekit.LookupMembership("devs", "bob"), nil, "")
	wantErr(t, "invalid group", storekit.LookupMembership("De vs", "B:b"), acl.ErrNotFound, "De vs")
	wantErr(t, "invalid member", storekit.LookupMembership("devs", "B:b"), acl.ErrNotFound, "B:b")
}
