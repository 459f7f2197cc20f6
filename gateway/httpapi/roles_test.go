package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wsgate/wsgate/acl"
)

// roleTable is DESIGN.md's table, cell by cell, written out independently of
// acl's own table. Connect is the SSH front door's (gateway tests); every
// other row is an API call.
var roleTable = map[acl.Action]map[acl.Role]bool{
	acl.ActionStart:          {acl.RoleOwner: true, acl.RoleAdmin: true, acl.RoleUse: true},
	acl.ActionStop:           {acl.RoleOwner: true, acl.RoleAdmin: true, acl.RoleUse: true},
	acl.ActionView:           {acl.RoleOwner: true, acl.RoleAdmin: true, acl.RoleUse: true},
	acl.ActionUpdateRequired: {acl.RoleOwner: true, acl.RoleAdmin: true, acl.RoleUse: true},
	acl.ActionUpdate:         {acl.RoleOwner: true, acl.RoleAdmin: true},
	acl.ActionRename:         {acl.RoleOwner: true, acl.RoleAdmin: true},
	acl.ActionShareUse:       {acl.RoleOwner: true, acl.RoleAdmin: true},
	acl.ActionShareAdmin:     {acl.RoleOwner: true},
	acl.ActionDelete:         {acl.RoleOwner: true},
	acl.ActionManageAgent:    {acl.RoleOwner: true},
}

// recordingProvisioner records calls; required says whether the workspace
// needs an update (httpapi.UpdateChecker).
type recordingProvisioner struct {
	mu       sync.Mutex
	calls    []string
	required bool
	fail     error
}

func (p *recordingProvisioner) record(op string, ws acl.Workspace) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, op+" "+ws.ID().String()+" "+string(ws.State))
	return p.fail
}

func (p *recordingProvisioner) Start(_ context.Context, ws acl.Workspace) error {
	return p.record("start", ws)
}
func (p *recordingProvisioner) Stop(_ context.Context, ws acl.Workspace) error {
	return p.record("stop", ws)
}
func (p *recordingProvisioner) Update(_ context.Context, ws acl.Workspace) error {
	return p.record("update", ws)
}
func (p *recordingProvisioner) UpdateRequired(context.Context, acl.Workspace) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.required, nil
}

func (p *recordingProvisioner) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// scenario is one setting of the sharing switches.
type scenario struct {
	name           string
	orgDisabled    bool
	deployDisabled bool // the stored setting
	flagDisabled   bool // --disable-sharing
}

func (s scenario) sharingOff() bool { return s.orgDisabled || s.deployDisabled || s.flagDisabled }

// subject is a caller and the role it holds on acme's workspace alice/ws
// while sharing is on.
type subject struct {
	user      string
	role      acl.Role
	suspended bool
}

var subjects = []subject{
	{user: "alice", role: acl.RoleOwner},
	{user: "adam", role: acl.RoleAdmin},  // direct admin grant
	{user: "gina", role: acl.RoleAdmin},  // use direct, admin via group leads
	{user: "ursula", role: acl.RoleUse},  // direct use grant
	{user: "carol", role: acl.RoleUse},   // use via group contractor
	{user: "nobody", role: acl.RoleNone}, // no grant
	{user: "root", role: acl.RoleOwner},  // site admin
	{user: "sus", suspended: true},       // suspended, holds admin
}

var wsID = acl.WorkspaceID{Owner: "alice", Name: "ws"}

// seeded is a store file seeded for one scenario and the tokens in it.
type seeded struct {
	data   []byte
	tokens map[string]string
}

// roleEnv opens a copy of the scenario's seeded store behind a new server.
func roleEnv(t *testing.T, sc scenario, seed seeded, prov *recordingProvisioner) *env {
	opts := []envOption{withStoreFile(seed.data), withProvisioner(prov)}
	if sc.flagDisabled {
		opts = append(opts, withDisableSharing())
	}
	e := newEnv(t, opts...)
	e.tokens = seed.tokens
	return e
}

// seedRoles seeds the subjects, their grants on alice/ws (org acme) and a
// bystander "newbie" and admin grantee "aria" that share calls touch.
// Seeding once per scenario and copying the file keeps the table fast.
func seedRoles(t *testing.T, sc scenario) seeded {
	e := newEnv(t)
	e.must(e.store.CreateOrg(e.ctx(), acl.Org{Name: "acme", SharingDisabled: sc.orgDisabled}))
	for _, name := range []string{"alice", "adam", "gina", "ursula", "carol", "nobody", "sus", "newbie", "aria"} {
		e.user(name, inOrg("acme"))
	}
	e.user("root", siteAdmin)
	e.group("contractor", "carol")
	e.group("leads", "gina")
	e.workspace("alice", "ws", "acme")
	e.grant(wsID, acl.SubjectUser, "adam", acl.RoleAdmin)
	e.grant(wsID, acl.SubjectUser, "gina", acl.RoleUse)
	e.grant(wsID, acl.SubjectGroup, "leads", acl.RoleAdmin)
	e.grant(wsID, acl.SubjectUser, "ursula", acl.RoleUse)
	e.grant(wsID, acl.SubjectGroup, "contractor", acl.RoleUse)
	e.grant(wsID, acl.SubjectUser, "sus", acl.RoleAdmin)
	e.grant(wsID, acl.SubjectUser, "aria", acl.RoleAdmin)
	e.must(e.store.SetUserSuspended(e.ctx(), "sus", true))
	if sc.deployDisabled {
		e.must(e.store.SetSettings(e.ctx(), acl.Settings{SharingDisabled: true}))
	}
	return seeded{data: e.snapshot(), tokens: e.tokens}
}

// actionCase performs one action on alice/ws through the API and checks
// its effect when it was allowed.
type actionCase struct {
	prepare func(e *env, p *recordingProvisioner)
	method  string
	path    string
	body    any
	ok      int
	effect  func(t *testing.T, e *env, p *recordingProvisioner)
}

var actionCases = map[acl.Action]actionCase{
	acl.ActionStart: {
		method: http.MethodPost, path: "/api/v1/workspaces/alice/ws/start", ok: http.StatusOK,
		effect: func(t *testing.T, e *env, p *recordingProvisioner) {
			wantState(t, e, acl.StateRunning)
			wantCalls(t, p, "start alice/ws starting")
		},
	},
	acl.ActionStop: {
		prepare: func(e *env, _ *recordingProvisioner) {
			e.must(e.store.SetWorkspaceState(e.ctx(), wsID, acl.StateRunning))
		},
		method: http.MethodPost, path: "/api/v1/workspaces/alice/ws/stop", ok: http.StatusOK,
		effect: func(t *testing.T, e *env, p *recordingProvisioner) {
			wantState(t, e, acl.StateStopped)
			wantCalls(t, p, "stop alice/ws stopping")
		},
	},
	acl.ActionView: {
		method: http.MethodGet, path: "/api/v1/workspaces/alice/ws", ok: http.StatusOK,
	},
	acl.ActionUpdateRequired: {
		prepare: func(_ *env, p *recordingProvisioner) { p.required = true },
		method:  http.MethodPost, path: "/api/v1/workspaces/alice/ws/update", ok: http.StatusOK,
		effect: func(t *testing.T, e *env, p *recordingProvisioner) {
			wantState(t, e, acl.StateRunning)
			wantCalls(t, p, "update alice/ws starting")
		},
	},
	acl.ActionUpdate: {
		method: http.MethodPost, path: "/api/v1/workspaces/alice/ws/update", ok: http.StatusOK,
		effect: func(t *testing.T, e *env, p *recordingProvisioner) {
			wantState(t, e, acl.StateRunning)
			wantCalls(t, p, "update alice/ws starting")
		},
	},
	acl.ActionRename: {
		method: http.MethodPatch, path: "/api/v1/workspaces/alice/ws", body: map[string]string{"name": "renamed"}, ok: http.StatusOK,
		effect: func(t *testing.T, e *env, _ *recordingProvisioner) {
			if _, err := e.store.GetWorkspace(e.ctx(), acl.WorkspaceID{Owner: "alice", Name: "renamed"}); err != nil {
				t.Errorf("renamed workspace: %v", err)
			}
		},
	},
	acl.ActionShareUse: {
		method: http.MethodPatch, path: "/api/v1/workspaces/alice/ws/acl", body: map[string]any{"users": map[string]string{"newbie": "use"}}, ok: http.StatusOK,
		effect: func(t *testing.T, e *env, _ *recordingProvisioner) {
			wantGrant(t, e, acl.SubjectUser, "newbie", acl.RoleUse)
		},
	},
	acl.ActionShareAdmin: {
		// Removing another admin's grant is an admin-grant change too.
		method: http.MethodPatch, path: "/api/v1/workspaces/alice/ws/acl", body: map[string]any{"users": map[string]string{"newbie": "admin", "aria": ""}}, ok: http.StatusOK,
		effect: func(t *testing.T, e *env, _ *recordingProvisioner) {
			wantGrant(t, e, acl.SubjectUser, "newbie", acl.RoleAdmin)
			wantGrant(t, e, acl.SubjectUser, "aria", acl.RoleNone)
		},
	},
	acl.ActionDelete: {
		method: http.MethodDelete, path: "/api/v1/workspaces/alice/ws", ok: http.StatusNoContent,
		effect: func(t *testing.T, e *env, _ *recordingProvisioner) {
			if _, err := e.store.GetWorkspace(e.ctx(), wsID); err == nil {
				t.Error("workspace still exists after delete")
			}
		},
	},
	acl.ActionManageAgent: {
		method: http.MethodPost, path: "/api/v1/workspaces/alice/ws/agent-token", ok: http.StatusOK,
		prepare: func(e *env, _ *recordingProvisioner) {
			e.must(e.store.SetAgentTokenHash(e.ctx(), wsID, "before"))
		},
		effect: func(t *testing.T, e *env, _ *recordingProvisioner) {
			if e.ws(wsID).AgentTokenHash == "before" {
				t.Error("agent token not rotated")
			}
		},
	},
}

func wantState(t *testing.T, e *env, want acl.WorkspaceState) {
	t.Helper()
	if got := e.ws(wsID).State; got != want {
		t.Errorf("state %s, want %s", got, want)
	}
}

func wantCalls(t *testing.T, p *recordingProvisioner, want ...string) {
	t.Helper()
	if got := p.Calls(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("provisioner calls %q, want %q", got, want)
	}
}

func wantGrant(t *testing.T, e *env, kind acl.SubjectKind, subject string, want acl.Role) {
	t.Helper()
	got := acl.RoleNone
	for _, g := range e.grants(wsID) {
		if g.Kind == kind && g.Subject == subject {
			got = g.Role
		}
	}
	if got != want {
		t.Errorf("%s %s holds %q, want %q", kind, subject, got, want)
	}
}

// fingerprint is what a denied request must leave untouched.
func fingerprint(e *env) string {
	var b strings.Builder
	ws, err := e.store.ListWorkspaces(e.ctx())
	e.must(err)
	for _, w := range ws {
		fmt.Fprintf(&b, "%s %s %s %s;", w.ID(), w.State, w.UpdatedAt, w.AgentTokenHash)
		for _, g := range e.grants(w.ID()) {
			fmt.Fprintf(&b, "%s:%s:%s;", g.Kind, g.Subject, g.Role)
		}
	}
	return b.String()
}

// TestRoleTable runs every cell of DESIGN.md's role table (but connect)
// for every kind of subject under every sharing setting, through the HTTP
// API: allowed actions succeed and have their effect; denied ones answer
// 404 when the caller may not see the workspace, 403 when they may, 401 for
// suspended users, and change nothing.
func TestRoleTable(t *testing.T) {
	scenarios := []scenario{
		{name: "sharing-on"},
		{name: "org-sharing-off", orgDisabled: true},
		{name: "deployment-sharing-off", deployDisabled: true},
		{name: "server-flag-sharing-off", flagDisabled: true},
	}
	for _, sc := range scenarios {
		seed := seedRoles(t, sc)
		for _, sub := range subjects {
			for _, action := range acl.Actions() {
				if action == acl.ActionConnect {
					continue
				}
				tc, ok := actionCases[action]
				if !ok {
					t.Fatalf("no API case for action %s", action)
				}
				t.Run(fmt.Sprintf("%s/%s/%s", sc.name, sub.user, action), func(t *testing.T) {
					t.Parallel()
					runRoleCell(t, sc, seed, sub, action, tc)
				})
			}
		}
	}
}

func runRoleCell(t *testing.T, sc scenario, seed seeded, sub subject, action acl.Action, tc actionCase) {
	prov := &recordingProvisioner{}
	e := roleEnv(t, sc, seed, prov)
	if tc.prepare != nil {
		tc.prepare(e, prov)
	}
	role := sub.role
	if sc.sharingOff() && role != acl.RoleOwner {
		role = acl.RoleNone // grants give nothing
	}
	shareAction := action == acl.ActionShareUse || action == acl.ActionShareAdmin

	var wantStatus int
	var wantMsg string
	switch {
	case sub.suspended:
		wantStatus, wantMsg = http.StatusUnauthorized, "unauthorized"
	case role == acl.RoleNone:
		wantStatus, wantMsg = http.StatusNotFound, `workspace "alice/ws" not found`
	case shareAction && sc.sharingOff():
		wantStatus = http.StatusForbidden
		wantMsg = "workspace sharing is disabled for this deployment"
		if sc.orgDisabled {
			wantMsg = `workspace sharing is disabled for organization "acme"`
		}
	case roleTable[action][role]:
		wantStatus = tc.ok
	case action == acl.ActionShareAdmin && role == acl.RoleAdmin:
		wantStatus, wantMsg = http.StatusForbidden, "only the workspace owner or a site admin may grant or remove the admin role"
	default:
		wantStatus, wantMsg = http.StatusForbidden, "you may not"
	}

	before := fingerprint(e)
	r := e.do(sub.user, tc.method, tc.path, tc.body)
	if r.status != wantStatus {
		t.Fatalf("status %d, want %d; body %s", r.status, wantStatus, r.body)
	}
	if wantStatus == tc.ok {
		if tc.effect != nil {
			tc.effect(t, e, prov)
		}
		return
	}
	if msg := r.apiError(t).Message; !strings.Contains(msg, wantMsg) {
		t.Errorf("message %q does not contain %q", msg, wantMsg)
	}
	if after := fingerprint(e); after != before {
		t.Errorf("a denied request changed the store:\nbefore %s\nafter  %s", before, after)
	}
	if calls := prov.Calls(); len(calls) > 0 {
		t.Errorf("a denied request ran the provisioner: %q", calls)
	}
}
