package acl

import (
	"fmt"
	"testing"
	"time"
)

var (
	wsID  = WorkspaceID{Owner: "alice", Name: "alice-ws"}
	orgWS = WorkspaceID{Owner: "olga", Name: "org-ws"}
	t0    = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// fixture builds a snapshot with one user per role on alice/alice-ws, plus
// group-based users, a site admin and a suspended grantee.
func fixture(settings Settings, orgDisabled bool) *Snapshot {
	b := NewSnapshotBuilder(t0, settings)
	b.AddOrg(Org{Name: "acme", SharingDisabled: orgDisabled})
	for _, u := range []User{
		{Name: "alice"},
		{Name: "adam"},                  // direct admin
		{Name: "ursula"},                // direct use
		{Name: "nobody"},                // no grant
		{Name: "root", SiteAdmin: true}, // site admin
		{Name: "sus", Suspended: true},  // suspended, holds admin
		{Name: "suzy", Suspended: true, SiteAdmin: true},        // suspended site admin
		{Name: "carol", Groups: []string{"contractor"}},         // use via group
		{Name: "gina", Groups: []string{"contractor", "leads"}}, // use direct, admin via group
		{Name: "ed"},                    // expired admin grant
		{Name: "olga", Suspended: true}, // suspended owner
		{Name: "otto"},                  // use on org workspace
	} {
		b.AddUser(u)
	}
	b.AddWorkspace(Workspace{Owner: "alice", Name: "alice-ws", Org: "acme"}, []Grant{
		{Workspace: wsID, Kind: SubjectUser, Subject: "adam", Role: RoleAdmin},
		{Workspace: wsID, Kind: SubjectUser, Subject: "ursula", Role: RoleUse},
		{Workspace: wsID, Kind: SubjectUser, Subject: "sus", Role: RoleAdmin},
		{Workspace: wsID, Kind: SubjectGroup, Subject: "contractor", Role: RoleUse},
		{Workspace: wsID, Kind: SubjectUser, Subject: "gina", Role: RoleUse},
		{Workspace: wsID, Kind: SubjectGroup, Subject: "leads", Role: RoleAdmin},
		{Workspace: wsID, Kind: SubjectUser, Subject: "ed", Role: RoleAdmin, ExpiresAt: t0},
	})
	b.AddWorkspace(Workspace{Owner: "olga", Name: "org-ws"}, []Grant{
		{Workspace: orgWS, Kind: SubjectUser, Subject: "otto", Role: RoleUse},
	})
	return b.Build()
}

// roleTable is DESIGN.md's table, written out cell by cell independently of
// minRole so a change to either is caught.
var roleTable = map[Action]map[Role]bool{
	ActionConnect:        {RoleOwner: true, RoleAdmin: true, RoleUse: true, RoleNone: false},
	ActionStart:          {RoleOwner: true, RoleAdmin: true, RoleUse: true, RoleNone: false},
	ActionStop:           {RoleOwner: true, RoleAdmin: true, RoleUse: true, RoleNone: false},
	ActionView:           {RoleOwner: true, RoleAdmin: true, RoleUse: true, RoleNone: false},
	ActionUpdateRequired: {RoleOwner: true, RoleAdmin: true, RoleUse: true, RoleNone: false},
	ActionUpdate:         {RoleOwner: true, RoleAdmin: true, RoleUse: false, RoleNone: false},
	ActionRename:         {RoleOwner: true, RoleAdmin: true, RoleUse: false, RoleNone: false},
	ActionShareUse:       {RoleOwner: true, RoleAdmin: true, RoleUse: false, RoleNone: false},
	ActionShareAdmin:     {RoleOwner: true, RoleAdmin: false, RoleUse: false, RoleNone: false},
	ActionDelete:         {RoleOwner: true, RoleAdmin: false, RoleUse: false, RoleNone: false},
	ActionManageAgent:    {RoleOwner: true, RoleAdmin: false, RoleUse: false, RoleNone: false},
}

func TestRoleTableCoversEveryAction(t *testing.T) {
	for _, a := range Actions() {
		if _, ok := roleTable[a]; !ok {
			t.Errorf("role table has no row for %s", a)
		}
	}
}

func TestAuthorizeRoleTable(t *testing.T) {
	s := fixture(Settings{}, false)
	subjects := map[Role]string{RoleOwner: "alice", RoleAdmin: "adam", RoleUse: "ursula", RoleNone: "nobody"}
	for _, a := range Actions() {
		for role, user := range subjects {
			want := roleTable[a][role]
			t.Run(fmt.Sprintf("%s/%s", a, roleName(role)), func(t *testing.T) {
				d := Authorize(s, user, a, wsID)
				if d.Allow != want {
					t.Fatalf("Authorize(%s as %s, %s) = %v (%s), want %v", user, roleName(role), a, d.Allow, d.Reason, want)
				}
				if d.Role != role {
					t.Fatalf("effective role = %v, want %v", d.Role, role)
				}
			})
		}
	}
}

func roleName(r Role) string {
	if r == RoleNone {
		return "none"
	}
	return r.String()
}

func TestAuthorizeSpecialSubjects(t *testing.T) {
	cases := []struct {
		name   string
		snap   *Snapshot
		user   string
		ws     WorkspaceID
		action Action
		allow  bool
		role   Role
		reason Reason
	}{
		{"group grant gives use", fixture(Settings{}, false), "carol", wsID, ActionConnect, true, RoleUse, ReasonAllowed},
		{"group grant use cannot rename", fixture(Settings{}, false), "carol", wsID, ActionRename, false, RoleUse, ReasonRoleTooLow},
		{"max of direct use and group admin", fixture(Settings{}, false), "gina", wsID, ActionShareUse, true, RoleAdmin, ReasonAllowed},
		{"group admin still cannot share admin", fixture(Settings{}, false), "gina", wsID, ActionShareAdmin, false, RoleAdmin, ReasonRoleTooLow},
		{"site admin may delete", fixture(Settings{}, false), "root", wsID, ActionDelete, true, RoleOwner, ReasonAllowed},
		{"site admin may share admin", fixture(Settings{}, false), "root", wsID, ActionShareAdmin, true, RoleOwner, ReasonAllowed},
		{"suspended grantee denied", fixture(Settings{}, false), "sus", wsID, ActionConnect, false, RoleNone, ReasonSuspended},
		{"suspended site admin denied", fixture(Settings{}, false), "suzy", wsID, ActionView, false, RoleNone, ReasonSuspended},
		{"suspended owner denied", fixture(Settings{}, false), "olga", orgWS, ActionConnect, false, RoleNone, ReasonSuspended},
		{"unknown user denied", fixture(Settings{}, false), "mallory", wsID, ActionConnect, false, RoleNone, ReasonNoUser},
		{"unknown workspace denied", fixture(Settings{}, false), "alice", WorkspaceID{"alice", "nope"}, ActionConnect, false, RoleNone, ReasonNoWorkspace},
		{"no grant denied", fixture(Settings{}, false), "nobody", wsID, ActionView, false, RoleNone, ReasonNoRole},
		{"expired grant gives nothing", fixture(Settings{}, false), "ed", wsID, ActionConnect, false, RoleNone, ReasonNoRole},
		{"deployment sharing disabled: grantee denied", fixture(Settings{SharingDisabled: true}, false), "ursula", wsID, ActionConnect, false, RoleNone, ReasonNoRole},
		{"deployment sharing disabled: group grantee denied", fixture(Settings{SharingDisabled: true}, false), "carol", wsID, ActionConnect, false, RoleNone, ReasonNoRole},
		{"deployment sharing disabled: owner allowed", fixture(Settings{SharingDisabled: true}, false), "alice", wsID, ActionDelete, true, RoleOwner, ReasonAllowed},
		{"deployment sharing disabled: site admin allowed", fixture(Settings{SharingDisabled: true}, false), "root", wsID, ActionConnect, true, RoleOwner, ReasonAllowed},
		{"org sharing disabled: admin grantee denied", fixture(Settings{}, true), "adam", wsID, ActionConnect, false, RoleNone, ReasonNoRole},
		{"org sharing disabled: owner allowed", fixture(Settings{}, true), "alice", wsID, ActionConnect, true, RoleOwner, ReasonAllowed},
		{"org sharing disabled elsewhere: other org's grants still work", fixture(Settings{}, true), "otto", orgWS, ActionConnect, true, RoleUse, ReasonAllowed},
		{"nil snapshot denies", nil, "alice", wsID, ActionConnect, false, RoleNone, ReasonNoUser},
		{"unknown action denied even for owner", fixture(Settings{}, false), "alice", wsID, Action(200), false, RoleOwner, ReasonRoleTooLow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Authorize(c.snap, c.user, c.action, c.ws)
			if d.Allow != c.allow || d.Role != c.role || d.Reason != c.reason {
				t.Fatalf("got %+v (reason %s), want allow=%v role=%v reason=%s", d, d.Reason, c.allow, c.role, c.reason)
			}
		})
	}
}

func TestSnapshotValidUntil(t *testing.T) {
	b := NewSnapshotBuilder(t0, Settings{})
	later, soon := t0.Add(2*time.Hour), t0.Add(time.Hour)
	b.AddWorkspace(Workspace{Owner: "a", Name: "w"}, []Grant{
		{Kind: SubjectUser, Subject: "x", Role: RoleUse, ExpiresAt: later},
		{Kind: SubjectUser, Subject: "y", Role: RoleUse, ExpiresAt: soon},
		{Kind: SubjectUser, Subject: "z", Role: RoleUse, ExpiresAt: t0.Add(-time.Second)},
		{Kind: SubjectUser, Subject: "q", Role: RoleUse},
	})
	if got := b.Build().ValidUntil(); !got.Equal(soon) {
		t.Fatalf("ValidUntil = %v, want %v", got, soon)
	}
}

func TestSnapshotIgnoresUngrantableRoles(t *testing.T) {
	b := NewSnapshotBuilder(t0, Settings{})
	b.AddUser(User{Name: "eve"})
	b.AddWorkspace(Workspace{Owner: "a", Name: "w"}, []Grant{{Kind: SubjectUser, Subject: "eve", Role: RoleOwner}})
	if d := Authorize(b.Build(), "eve", ActionDelete, WorkspaceID{"a", "w"}); d.Allow || d.Role != RoleNone {
		t.Fatalf("a stored owner grant must give nothing, got %+v", d)
	}
}

func BenchmarkAuthorize(b *testing.B) {
	s := fixture(Settings{}, false)
	b.ReportAllocs()
	for b.Loop() {
		if !Authorize(s, "gina", ActionConnect, wsID).Allow {
			b.Fatal("denied")
		}
	}
}

func BenchmarkAuthorizeDenied(b *testing.B) {
	s := fixture(Settings{}, false)
	b.ReportAllocs()
	for b.Loop() {
		if Authorize(s, "nobody", ActionConnect, wsID).Allow {
			b.Fatal("allowed")
		}
	}
}

func TestSnapshotWorkspaceUID(t *testing.T) {
	b := NewSnapshotBuilder(t0, Settings{})
	b.AddUser(User{Name: "alice"})
	b.AddWorkspace(Workspace{UID: "uid-1", Owner: "alice", Name: "w"}, nil)
	s := b.Build()
	if got := s.WorkspaceUID(WorkspaceID{"alice", "w"}); got != "uid-1" {
		t.Fatalf("WorkspaceUID = %q, want uid-1", got)
	}
	if got := s.WorkspaceUID(WorkspaceID{"alice", "other"}); got != "" {
		t.Fatalf("WorkspaceUID of a missing workspace = %q, want empty", got)
	}
	if got := (*Snapshot)(nil).WorkspaceUID(WorkspaceID{"alice", "w"}); got != "" {
		t.Fatalf("nil snapshot: %q", got)
	}
}
