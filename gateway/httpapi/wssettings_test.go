package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func TestWorkspaceSettingsAPI(t *testing.T) {
	e := newEnv(t)
	e.user("alice")
	e.user("bob")
	e.user("carol")
	e.user("dave")
	id := e.workspace("alice", "ws", "")
	e.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	e.grant(id, acl.SubjectUser, "carol", acl.RoleAdmin)
	path := "/api/v1/workspaces/alice/ws/settings"
	defaults := apitypes.WorkspaceSettings{"agent-forwarding": "off", "remote-forward-bind": "loopback"}

	var got apitypes.WorkspaceSettings
	e.expect(http.StatusOK, "bob", "GET", path, nil).json(t, &got)
	wantSettings(t, "defaults", got, defaults)
	e.expect(http.StatusNotFound, "dave", "GET", path, nil)

	// use may see but not change; admin and owner may change.
	e.expect(http.StatusForbidden, "bob", "PATCH", path, map[string]string{"agent-forwarding": "on"})
	e.expect(http.StatusOK, "carol", "PATCH", path, map[string]string{"agent-forwarding": "on"}).json(t, &got)
	wantSettings(t, "after admin PATCH", got, apitypes.WorkspaceSettings{"agent-forwarding": "on", "remote-forward-bind": "loopback"})
	e.expect(http.StatusOK, "alice", "PATCH", path, map[string]string{"remote-forward-bind": "any"}).json(t, &got)
	wantSettings(t, "PATCH keeps other keys", got, apitypes.WorkspaceSettings{"agent-forwarding": "on", "remote-forward-bind": "any"})

	// A bad key or value changes nothing, even next to a good one.
	for _, body := range []map[string]string{
		{"agent-forwarding": "off", "gateway-ports": "yes"},
		{"agent-forwarding": "off", "remote-forward-bind": "0.0.0.0"},
		{"agent-forwarding": "sometimes"},
	} {
		e.expect(http.StatusBadRequest, "alice", "PATCH", path, body)
	}
	if s := e.ws(id).Settings; !s.AgentForwarding || !s.BindsAny() {
		t.Fatalf("settings changed by refused requests: %+v", s)
	}

	// The workspace body carries them.
	var ws apitypes.Workspace
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/workspaces/alice/ws", nil).json(t, &ws)
	wantSettings(t, "workspace body", ws.Settings, got)

	// PUT resets what it leaves out.
	e.expect(http.StatusOK, "alice", "PUT", path, map[string]string{"remote-forward-bind": "any"}).json(t, &got)
	wantSettings(t, "after PUT", got, apitypes.WorkspaceSettings{"agent-forwarding": "off", "remote-forward-bind": "any"})
}

func wantSettings(t *testing.T, what string, got, want apitypes.WorkspaceSettings) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}
