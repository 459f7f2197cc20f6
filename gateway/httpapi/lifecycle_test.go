package httpapi_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func TestLifecycleWithoutProvisioner(t *testing.T) {
	e := basicEnv(t)
	id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	r := e.expect(http.StatusOK, "alice", "POST", "/api/v1/workspaces/alice/ws/start", nil)
	var w apitypes.Workspace
	r.json(t, &w)
	if w.State != acl.StateRunning || w.Role != "owner" {
		t.Errorf("after start: %+v", w)
	}
	r = e.expect(http.StatusConflict, "alice", "POST", "/api/v1/workspaces/alice/ws/start", nil)
	if msg := r.apiError(t).Message; msg != "cannot start workspace alice/ws: it is running" {
		t.Errorf("message %q", msg)
	}
	e.expect(http.StatusOK, "alice", "POST", "/api/v1/workspaces/alice/ws/update", nil)
	e.expect(http.StatusOK, "alice", "POST", "/api/v1/workspaces/alice/ws/stop", nil)
	if s := e.ws(id).State; s != acl.StateStopped {
		t.Errorf("state %s", s)
	}
	e.expect(http.StatusConflict, "alice", "POST", "/api/v1/workspaces/alice/ws/stop", nil)
}

func TestLifecycleProvisionerFailure(t *testing.T) {
	prov := &recordingProvisioner{fail: errors.New("boom")}
	e := basicEnv(t, withProvisioner(prov))
	id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	r := e.expect(http.StatusBadGateway, "alice", "POST", "/api/v1/workspaces/alice/ws/start", nil)
	if msg := r.apiError(t).Message; msg != "start workspace alice/ws failed: boom" {
		t.Errorf("message %q", msg)
	}
	if s := e.ws(id).State; s != acl.StateFailed {
		t.Errorf("state %s, want failed", s)
	}
	// A failed workspace may be started again or stopped.
	prov.mu.Lock()
	prov.fail = nil
	prov.mu.Unlock()
	e.expect(http.StatusOK, "alice", "POST", "/api/v1/workspaces/alice/ws/start", nil)
	// A required update makes start run the update.
	prov.mu.Lock()
	prov.required = true
	prov.mu.Unlock()
	e.expect(http.StatusOK, "alice", "POST", "/api/v1/workspaces/alice/ws/stop", nil)
	e.expect(http.StatusOK, "alice", "POST", "/api/v1/workspaces/alice/ws/start", nil)
	wantCalls(t, prov, "start alice/ws starting", "start alice/ws starting", "stop alice/ws stopping", "update alice/ws starting")
}

func TestDeleteStopsARunningWorkspace(t *testing.T) {
	prov := &recordingProvisioner{}
	e := basicEnv(t, withProvisioner(prov))
	e.expect(http.StatusOK, "alice", "POST", "/api/v1/workspaces/alice/ws/start", nil)
	e.expect(http.StatusNoContent, "alice", "DELETE", "/api/v1/workspaces/alice/ws", nil)
	wantCalls(t, prov, "start alice/ws starting", "stop alice/ws stopping")
	e.expect(http.StatusNotFound, "alice", "GET", "/api/v1/workspaces/alice/ws", nil)
}

func TestCreateWorkspace(t *testing.T) {
	e := basicEnv(t)
	e.must(e.store.CreateOrg(e.ctx(), acl.Org{Name: "acme"}))
	e.user("olga", inOrg("acme"))
	r := e.expect(http.StatusCreated, "olga", "POST", "/api/v1/workspaces", apitypes.CreateWorkspaceRequest{Name: "dev"})
	var cr apitypes.CreateWorkspaceResponse
	r.json(t, &cr)
	if cr.Workspace.Owner != "olga" || cr.Workspace.Org != "acme" || cr.Workspace.State != acl.StateStopped || cr.Workspace.Role != "owner" {
		t.Errorf("created %+v", cr.Workspace)
	}
	if !strings.HasPrefix(cr.AgentToken, acl.AgentTokenPrefix) {
		t.Fatalf("agent token %q", cr.AgentToken)
	}
	// The agent token is stored only as its hash, and is never shown again.
	got, err := e.store.WorkspaceByAgentTokenHash(e.ctx(), acl.HashToken(cr.AgentToken))
	e.must(err)
	if got.ID() != (acl.WorkspaceID{Owner: "olga", Name: "dev"}) {
		t.Errorf("agent token resolves to %s", got.ID())
	}
	r = e.expect(http.StatusOK, "olga", "GET", "/api/v1/workspaces/olga/dev", nil)
	if strings.Contains(string(r.body), cr.AgentToken) || strings.Contains(string(r.body), acl.HashToken(cr.AgentToken)) {
		t.Error("GET shows the agent token or its hash")
	}
	// Rotation replaces it.
	r = e.expect(http.StatusOK, "olga", "POST", "/api/v1/workspaces/olga/dev/agent-token", nil)
	var rot apitypes.AgentTokenResponse
	r.json(t, &rot)
	if _, err := e.store.WorkspaceByAgentTokenHash(e.ctx(), acl.HashToken(cr.AgentToken)); err == nil {
		t.Error("old agent token still valid")
	}
	if _, err := e.store.WorkspaceByAgentTokenHash(e.ctx(), acl.HashToken(rot.AgentToken)); err != nil {
		t.Errorf("new agent token: %v", err)
	}

	// Only site admins create for others or outside the owner's org.
	e.expect(http.StatusForbidden, "alice", "POST", "/api/v1/workspaces", apitypes.CreateWorkspaceRequest{Name: "x", Owner: "bob"})
	e.expect(http.StatusForbidden, "alice", "POST", "/api/v1/workspaces", apitypes.CreateWorkspaceRequest{Name: "x", Org: "acme"})
	e.expect(http.StatusCreated, "root", "POST", "/api/v1/workspaces", apitypes.CreateWorkspaceRequest{Name: "x", Owner: "bob", Org: "acme"})
	r = e.expect(http.StatusBadRequest, "root", "POST", "/api/v1/workspaces", apitypes.CreateWorkspaceRequest{Name: "x", Owner: "ghost", Org: "nope"})
	if msg := r.apiError(t).Message; !strings.Contains(msg, `user "ghost" not found`) || !strings.Contains(msg, `org "nope" not found`) {
		t.Errorf("message %q", msg)
	}
}
