package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func TestTransferWorkspace(t *testing.T) {
	e := basicEnv(t)
	e.user("carol")
	e.user("sus")
	e.must(e.store.SetUserSuspended(e.ctx(), "sus", true))
	id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	e.grant(id, acl.SubjectUser, "bob", acl.RoleAdmin)
	e.grant(id, acl.SubjectUser, "carol", acl.RoleUse)
	path := "/api/v1/workspaces/alice/ws/transfer"

	// Only the owner or a site admin; an admin grantee may not.
	r := e.expect(http.StatusForbidden, "bob", "POST", path, apitypes.TransferWorkspaceRequest{To: "bob"})
	wantMessage(t, r, "only the owner of alice/ws or a site admin may transfer it")
	// Clear refusals that change nothing.
	wantMessage(t, e.expect(http.StatusBadRequest, "alice", "POST", path, apitypes.TransferWorkspaceRequest{To: "nobody"}), `user "nobody" not found`)
	wantMessage(t, e.expect(http.StatusBadRequest, "alice", "POST", path, apitypes.TransferWorkspaceRequest{To: "sus"}), `user "sus" is suspended`)
	wantMessage(t, e.expect(http.StatusBadRequest, "alice", "POST", path, apitypes.TransferWorkspaceRequest{To: "bob", KeepAccess: "owner"}),
		`invalid keep_access "owner": expected admin, use or none`)
	e.workspace("bob", "ws", "")
	wantMessage(t, e.expect(http.StatusConflict, "alice", "POST", path, apitypes.TransferWorkspaceRequest{To: "bob"}),
		`workspace "bob/ws": user bob already has a workspace named ws; rename one first`)
	e.must(e.store.DeleteWorkspace(e.ctx(), acl.WorkspaceID{Owner: "bob", Name: "ws"}))
	if got := e.ws(id).Owner; got != "alice" {
		t.Fatalf("owner after refusals: %s", got)
	}

	// alice keeps use: she sees it with her new role.
	r = e.expect(http.StatusOK, "alice", "POST", path, apitypes.TransferWorkspaceRequest{To: "bob", KeepAccess: "use"})
	var v apitypes.Workspace
	r.json(t, &v)
	if v.Owner != "bob" || v.Role != "use" {
		t.Fatalf("after transfer alice sees %+v", v)
	}
	newID := acl.WorkspaceID{Owner: "bob", Name: "ws"}
	if got := summaryOf(e.grants(newID)); got != "alice=use carol=use" {
		t.Fatalf("grants %s", got)
	}
	// The new owner shares and deletes; alice, at use, may not.
	e.expect(http.StatusForbidden, "alice", "DELETE", "/api/v1/workspaces/bob/ws", nil)
	e.expect(http.StatusOK, "bob", "PATCH", "/api/v1/workspaces/bob/ws/acl",
		apitypes.ACLUpdate{Users: map[string]string{"carol": "admin"}})
	// A site admin hands it back; bob keeps nothing.
	e.expect(http.StatusOK, "root", "POST", "/api/v1/workspaces/bob/ws/transfer", apitypes.TransferWorkspaceRequest{To: "alice"})
	if got := summaryOf(e.grants(id)); got != "carol=admin" {
		t.Fatalf("grants after transfer back %s", got)
	}
	e.expect(http.StatusNoContent, "alice", "POST", path, apitypes.TransferWorkspaceRequest{To: "bob", KeepAccess: "none"})
	e.expect(http.StatusNotFound, "alice", "GET", "/api/v1/workspaces/bob/ws", nil)
	e.expect(http.StatusNoContent, "bob", "DELETE", "/api/v1/workspaces/bob/ws", nil)
}

func TestDeleteUserTransfersWorkspaces(t *testing.T) {
	e := basicEnv(t)
	e.workspace("alice", "second", "")
	e.expect(http.StatusConflict, "root", "DELETE", "/api/v1/users/alice", nil)
	e.workspace("bob", "second", "")
	r := e.expect(http.StatusConflict, "root", "DELETE", "/api/v1/users/alice?transfer_to=bob", nil)
	wantMessage(t, r, "user bob already has a workspace named second; rename one first (nothing was changed)")
	if got := e.ws(acl.WorkspaceID{Owner: "alice", Name: "ws"}).Owner; got != "alice" {
		t.Fatal("a refused delete transferred something")
	}
	e.must(e.store.DeleteWorkspace(e.ctx(), acl.WorkspaceID{Owner: "bob", Name: "second"}))
	e.expect(http.StatusBadRequest, "root", "DELETE", "/api/v1/users/alice?transfer_to=nobody", nil)
	e.expect(http.StatusNoContent, "root", "DELETE", "/api/v1/users/alice?transfer_to=bob", nil)
	for _, n := range []string{"ws", "second"} {
		if w := e.ws(acl.WorkspaceID{Owner: "bob", Name: n}); w.Owner != "bob" {
			t.Fatalf("%s: %+v", n, w)
		}
	}
	e.expect(http.StatusNotFound, "root", "GET", "/api/v1/users/alice", nil)
}

func TestSiteAdminSeesTheirRealRole(t *testing.T) {
	e := basicEnv(t)
	id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	e.grant(id, acl.SubjectUser, "root", acl.RoleUse)
	var v apitypes.Workspace
	e.expect(http.StatusOK, "root", "GET", "/api/v1/workspaces/alice/ws", nil).json(t, &v)
	if v.Role != "owner" || !v.ViaSiteAdmin || v.Grant != "use" {
		t.Fatalf("site admin's view: role %q via %v grant %q", v.Role, v.ViaSiteAdmin, v.Grant)
	}
	var list []apitypes.Workspace
	e.expect(http.StatusOK, "root", "GET", "/api/v1/workspaces", nil).json(t, &list)
	if len(list) != 1 || !list[0].ViaSiteAdmin {
		t.Fatalf("list %+v", list)
	}
	v = apitypes.Workspace{}
	e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/ws", nil).json(t, &v)
	if v.ViaSiteAdmin || v.Grant != "" {
		t.Fatalf("owner's view %+v", v)
	}
}

// TestUpdateRequiredMark: a site admin marks a workspace; a `use` grantee
// may then update it, start updates it first, and a successful update
// clears the mark.
func TestUpdateRequiredMark(t *testing.T) {
	prov := &recordingProvisioner{}
	e := basicEnv(t, withProvisioner(prov))
	id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	e.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	path := "/api/v1/workspaces/alice/ws/update-required"
	wantMessage(t, e.expect(http.StatusForbidden, "alice", "PUT", path, apitypes.UpdateRequiredRequest{Required: true}),
		"only site admins may mark workspaces as needing an update")
	e.expect(http.StatusForbidden, "bob", "POST", "/api/v1/workspaces/alice/ws/update", nil)

	var v apitypes.Workspace
	e.expect(http.StatusOK, "root", "PUT", path, apitypes.UpdateRequiredRequest{Required: true}).json(t, &v)
	if !v.UpdateRequired {
		t.Fatalf("not marked: %+v", v)
	}
	var list []apitypes.Workspace
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/workspaces", nil).json(t, &list)
	if len(list) != 1 || !list[0].UpdateRequired {
		t.Fatalf("bob's list %+v", list)
	}
	// bob's start runs the update, and clears the mark.
	v = apitypes.Workspace{}
	e.expect(http.StatusOK, "bob", "POST", "/api/v1/workspaces/alice/ws/start", nil).json(t, &v)
	if v.UpdateRequired || e.ws(id).UpdateRequired {
		t.Fatalf("mark not cleared: %+v", v)
	}
	wantCalls(t, prov, "update alice/ws starting")
	// Marked again, bob may update; afterwards he may not.
	e.expect(http.StatusOK, "root", "PUT", path, apitypes.UpdateRequiredRequest{Required: true})
	e.expect(http.StatusOK, "bob", "POST", "/api/v1/workspaces/alice/ws/update", nil)
	r := e.expect(http.StatusForbidden, "bob", "POST", "/api/v1/workspaces/alice/ws/update", nil)
	wantMessage(t, r, "you may not update workspace alice/ws: that needs the admin role, and yours is use")
	wantCalls(t, prov, "update alice/ws starting", "update alice/ws starting")
}

func wantMessage(t *testing.T, r response, want string) {
	t.Helper()
	if got := r.apiError(t).Message; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}

func summaryOf(gs []acl.Grant) string {
	out := ""
	for _, g := range gs {
		if out != "" {
			out += " "
		}
		out += g.Subject + "=" + g.Role.String()
	}
	return out
}
