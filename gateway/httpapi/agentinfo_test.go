package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/tunnel/control"
)

// fakeAgentInfo stands in for the gateway's tunnels here; the real one is
// tested in package gateway with a real agent. It records what it was
// asked.
type fakeAgentInfo struct {
	mu        sync.Mutex
	connected map[acl.WorkspaceID]bool
	refused   map[acl.WorkspaceID]*apitypes.AgentRefusal
	asked     []string
}

func (f *fakeAgentInfo) note(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, s)
}

func (f *fakeAgentInfo) up(id acl.WorkspaceID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.connected[id] {
		return fmt.Errorf("open stream to %s: %w", id, httpapi.ErrAgentNotConnected)
	}
	return nil
}

func (f *fakeAgentInfo) Stats(_ context.Context, ws acl.Workspace) (control.Stats, error) {
	id := ws.ID()
	f.note("stats " + id.String())
	if err := f.up(id); err != nil {
		return control.Stats{}, err
	}
	return control.Stats{Connections: 1, Users: []control.UserStats{{Name: "bob", Connections: 1}}, BytesIn: 42}, nil
}

func (f *fakeAgentInfo) Logs(_ context.Context, ws acl.Workspace, n int) ([]string, error) {
	id := ws.ID()
	f.note(fmt.Sprintf("logs %s %d", id, n))
	if err := f.up(id); err != nil {
		return nil, err
	}
	return []string{"line 1", "line 2"}, nil
}

func (f *fakeAgentInfo) Connections(ws acl.Workspace) []apitypes.Connection {
	id := ws.ID()
	f.note("connections " + id.String())
	return []apitypes.Connection{{SessionID: "s1", User: "bob", Via: "https", Since: time.Unix(1, 0).UTC()}}
}

func (f *fakeAgentInfo) Connected(ws acl.Workspace) bool { return f.up(ws.ID()) == nil }

func (f *fakeAgentInfo) LastTakeover(acl.Workspace) *apitypes.AgentRefusal { return nil }

func (f *fakeAgentInfo) LastRefusal(ws acl.Workspace) *apitypes.AgentRefusal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refused[ws.ID()]
}

func (f *fakeAgentInfo) Asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

func withAgentInfo(ai httpapi.AgentInfo) envOption {
	return func(o *envOptions) { o.cfg.AgentInfo = ai }
}

// View (use and up) may read stats, logs and connections; everyone else
// gets the same 404 as for a missing workspace, and a rejected caller never
// reaches the agent.
func TestAgentInfoPermissions(t *testing.T) {
	fake := &fakeAgentInfo{connected: map[acl.WorkspaceID]bool{}}
	e := newEnv(t, withAgentInfo(fake))
	for _, u := range []string{"alice", "adm", "user", "nobody", "grouped"} {
		e.user(u)
	}
	e.user("root", siteAdmin)
	e.user("susp")
	e.group("team", "grouped")
	ws := e.workspace("alice", "ws", "")
	fake.connected[ws] = true
	e.grant(ws, acl.SubjectUser, "adm", acl.RoleAdmin)
	e.grant(ws, acl.SubjectUser, "user", acl.RoleUse)
	e.grant(ws, acl.SubjectUser, "susp", acl.RoleUse)
	e.grant(ws, acl.SubjectGroup, "team", acl.RoleUse)
	e.must(e.store.SetUserSuspended(e.ctx(), "susp", true))

	for _, user := range []string{"alice", "adm", "user", "grouped", "root"} {
		var s control.Stats
		e.expect(http.StatusOK, user, "GET", "/api/v1/workspaces/alice/ws/stats", nil).json(t, &s)
		if s.BytesIn != 42 || len(s.Users) != 1 || s.Users[0].Name != "bob" {
			t.Fatalf("%s: stats %+v", user, s)
		}
		var l apitypes.AgentLogs
		e.expect(http.StatusOK, user, "GET", "/api/v1/workspaces/alice/ws/logs", nil).json(t, &l)
		if !reflect.DeepEqual(l.Lines, []string{"line 1", "line 2"}) {
			t.Fatalf("%s: logs %+v", user, l)
		}
		var cs []apitypes.Connection
		e.expect(http.StatusOK, user, "GET", "/api/v1/workspaces/alice/ws/connections", nil).json(t, &cs)
		if len(cs) != 1 || cs[0].User != "bob" || cs[0].Via != "https" {
			t.Fatalf("%s: connections %+v", user, cs)
		}
	}
	before := len(fake.Asked())
	missing := e.expect(http.StatusNotFound, "alice", "GET", "/api/v1/workspaces/alice/nope/stats", nil).apiError(t).Message
	for _, path := range []string{"stats", "logs", "connections"} {
		r := e.expect(http.StatusNotFound, "nobody", "GET", "/api/v1/workspaces/alice/ws/"+path, nil)
		if got := strings.ReplaceAll(r.apiError(t).Message, "alice/ws", "alice/nope"); got != missing {
			t.Fatalf("invisible %s: %q, missing workspace: %q", path, got, missing)
		}
		e.expect(http.StatusUnauthorized, "susp", "GET", "/api/v1/workspaces/alice/ws/"+path, nil)
		e.expect(http.StatusUnauthorized, "", "GET", "/api/v1/workspaces/alice/ws/"+path, nil)
	}
	if after := fake.Asked(); len(after) != before {
		t.Fatalf("refused callers reached the agent: %q", after[before:])
	}
}

func TestAgentInfoSharingDisabled(t *testing.T) {
	fake := &fakeAgentInfo{connected: map[acl.WorkspaceID]bool{}}
	e := newEnv(t, withAgentInfo(fake), withDisableSharing())
	e.user("alice")
	e.user("user")
	ws := e.workspace("alice", "ws", "")
	fake.connected[ws] = true
	e.grant(ws, acl.SubjectUser, "user", acl.RoleUse)
	e.expect(http.StatusNotFound, "user", "GET", "/api/v1/workspaces/alice/ws/stats", nil)
	e.expect(http.StatusNotFound, "user", "GET", "/api/v1/workspaces/alice/ws/connections", nil)
	e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/ws/stats", nil)
}

func TestAgentInfoAgentNotConnected(t *testing.T) {
	fake := &fakeAgentInfo{connected: map[acl.WorkspaceID]bool{}}
	e := newEnv(t, withAgentInfo(fake))
	e.user("alice")
	e.workspace("alice", "ws", "")
	for _, path := range []string{"stats", "logs"} {
		msg := e.expect(http.StatusConflict, "alice", "GET", "/api/v1/workspaces/me/ws/"+path, nil).apiError(t).Message
		if msg != "workspace alice/ws is not running: its agent is not connected" {
			t.Fatalf("%s: %q", path, msg)
		}
	}
	// Who is connected needs no agent: an empty list, not an error.
	r := e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/ws/connections", nil)
	if strings.TrimSpace(string(r.body)) == "null" {
		t.Fatalf("connections: %s", r.body)
	}
}

func TestAgentInfoLogLines(t *testing.T) {
	fake := &fakeAgentInfo{connected: map[acl.WorkspaceID]bool{}}
	e := newEnv(t, withAgentInfo(fake))
	e.user("alice")
	ws := e.workspace("alice", "ws", "")
	fake.connected[ws] = true
	e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/ws/logs", nil)
	e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/ws/logs?lines=1000", nil)
	e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/ws/logs?lines=7", nil)
	for _, bad := range []string{"0", "-1", "1001", "x", "1e3"} {
		v := e.expect(http.StatusBadRequest, "alice", "GET", "/api/v1/workspaces/alice/ws/logs?lines="+bad, nil).apiError(t).Validations
		if len(v) != 1 || v[0].Field != "lines" {
			t.Fatalf("lines=%s: validations %+v", bad, v)
		}
	}
	want := []string{"logs alice/ws 100", "logs alice/ws 1000", "logs alice/ws 7"}
	if got := fake.Asked(); !reflect.DeepEqual(got, want) {
		t.Fatalf("asked %q, want %q", got, want)
	}
}

func TestAgentInfoNotConfigured(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	e.workspace("alice", "ws", "")
	for _, path := range []string{"stats", "logs", "connections"} {
		e.expect(http.StatusServiceUnavailable, "alice", "GET", "/api/v1/workspaces/alice/ws/"+path, nil)
	}
}

// The workspace body, alone and in a listing, says why the gateway refused
// the agent; a workspace whose agent was not refused has no such field.
func TestWorkspaceBodyCarriesAgentRefusal(t *testing.T) {
	want := &apitypes.AgentRefusal{Message: "tunnel protocol v1; upgrade the agent to v2", At: time.Unix(1700000000, 0).UTC()}
	ws := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	fake := &fakeAgentInfo{refused: map[acl.WorkspaceID]*apitypes.AgentRefusal{ws: want}}
	e := newEnv(t, withAgentInfo(fake))
	e.user("alice")
	e.workspace("alice", "ws", "")
	e.workspace("alice", "other", "")

	var one apitypes.Workspace
	e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/ws", nil).json(t, &one)
	if !reflect.DeepEqual(one.AgentRefusal, want) {
		t.Fatalf("agent_refusal %+v, want %+v", one.AgentRefusal, want)
	}
	var list []apitypes.Workspace
	e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces", nil).json(t, &list)
	if len(list) != 2 || list[0].Name != "other" || list[0].AgentRefusal != nil || !reflect.DeepEqual(list[1].AgentRefusal, want) {
		t.Fatalf("listing %+v", list)
	}
	if r := e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/other", nil); strings.Contains(string(r.body), "agent_refusal") {
		t.Fatalf("a workspace without a refusal: %s", r.body)
	}
}
