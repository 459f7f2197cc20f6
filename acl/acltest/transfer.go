package acltest

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

func transferCases() []testCase {
	return []testCase{
		{"workspaces/transfer_moves_name_keeps_uid_and_grants", func(e *env) {
			e.users("alice", "bob", "carol")
			e.group("qa", "carol")
			id := e.workspace("alice", "ws")
			uid := e.uid(id)
			e.apply(id, userGrant("bob", acl.RoleUse), userGrant("carol", acl.RoleUse), groupGrant("qa", acl.RoleAdmin))
			w := e.watch()
			e.clock.Advance(time.Minute)
			e.must(e.st.TransferWorkspace(e.ctx, id, "bob", acl.RoleAdmin))
			newID := acl.WorkspaceID{Owner: "bob", Name: "ws"}
			w.expect(acl.Event{Kind: acl.EventWorkspaceTransferred, Workspace: id, WorkspaceUID: uid,
				User: "alice", NewOwner: "bob", Role: acl.RoleAdmin})

			got, err := e.st.GetWorkspace(e.ctx, newID)
			e.must(err)
			wantEqual(e.t, "owner", got.Owner, "bob")
			wantEqual(e.t, "uid", got.UID, uid)
			wantEqual(e.t, "updated_at", got.UpdatedAt, e.clock.Now())
			wantNotFound(e.t, func() error { _, err := e.st.GetWorkspace(e.ctx, id); return err }(), "workspace", "alice/ws")
			byUID, err := e.st.GetWorkspaceByUID(e.ctx, uid)
			e.must(err)
			wantEqual(e.t, "by uid", byUID.ID(), newID)
			// bob's own grant is gone (he owns it); alice keeps admin.
			wantEqual(e.t, "grants", summary(e.grants(newID)), "user:alice=admin user:carol=use group:qa=admin")
			owned, err := e.st.WorkspacesOwnedBy(e.ctx, "alice")
			e.must(err)
			wantEqual(e.t, "alice owns", len(owned), 0)
			owned, err = e.st.WorkspacesOwnedBy(e.ctx, "bob")
			e.must(err)
			wantEqual(e.t, "bob owns", names(owned, func(w acl.Workspace) string { return w.ID().String() }), []string{"bob/ws"})
			shared := e.sharedWithUser("alice")
			wantEqual(e.t, "shared with alice", len(shared), 1)
			wantEqual(e.t, "alice's role", shared[0].Role, acl.RoleAdmin)
			wantEqual(e.t, "shared with bob", len(e.sharedWithUser("bob")), 0)
			// alice may be deleted now that she owns nothing.
			e.must(e.st.DeleteUser(e.ctx, "alice"))
			wantEqual(e.t, "grants after alice left", summary(e.grants(newID)), "user:carol=use group:qa=admin")
		}},
		{"workspaces/transfer_keep_none_and_agent_token", func(e *env) {
			e.users("alice", "bob")
			id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws", AgentTokenHash: "h1"}))
			w := e.watch()
			e.must(e.st.TransferWorkspace(e.ctx, id, "bob", acl.RoleNone))
			w.expect(acl.Event{Kind: acl.EventWorkspaceTransferred, Workspace: id, WorkspaceUID: e.uid(acl.WorkspaceID{Owner: "bob", Name: "ws"}),
				User: "alice", NewOwner: "bob"})
			wantEqual(e.t, "grants", summary(e.grants(acl.WorkspaceID{Owner: "bob", Name: "ws"})), "")
			ws, err := e.st.WorkspaceByAgentTokenHash(e.ctx, "h1")
			e.must(err)
			wantEqual(e.t, "agent token's workspace", ws.ID().String(), "bob/ws")
			// The name is free again for alice.
			e.workspace("alice", "ws")
		}},
		{"workspaces/transfer_refusals_change_nothing", func(e *env) {
			e.users("alice", "bob", "sus")
			e.must(e.st.SetUserSuspended(e.ctx, "sus", true))
			id := e.workspace("alice", "ws")
			e.workspace("bob", "ws")
			e.apply(id, userGrant("bob", acl.RoleUse))
			w := e.watch()
			wantConflict(e.t, e.st.TransferWorkspace(e.ctx, id, "bob", acl.RoleUse), "workspace")
			wantNotFound(e.t, e.st.TransferWorkspace(e.ctx, id, "nobody", acl.RoleUse), "user", "nobody")
			wantInvalid(e.t, e.st.TransferWorkspace(e.ctx, id, "sus", acl.RoleUse), "suspended")
			wantInvalid(e.t, e.st.TransferWorkspace(e.ctx, id, "alice", acl.RoleUse), "already owns")
			wantInvalid(e.t, e.st.TransferWorkspace(e.ctx, id, "bob", acl.RoleOwner), "owner")
			wantNotFound(e.t, e.st.TransferWorkspace(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "nope"}, "bob", acl.RoleUse), "workspace", "alice/nope")
			got, err := e.st.GetWorkspace(e.ctx, id)
			e.must(err)
			wantEqual(e.t, "owner", got.Owner, "alice")
			wantEqual(e.t, "grants", summary(e.grants(id)), "user:bob=use")
			w.quiet()
		}},
		{"workspaces/update_required_flag", func(e *env) {
			e.user("alice")
			id := e.workspace("alice", "ws")
			w := e.watch()
			e.must(e.st.SetWorkspaceUpdateRequired(e.ctx, id, true))
			got, err := e.st.GetWorkspace(e.ctx, id)
			e.must(err)
			wantEqual(e.t, "required", got.UpdateRequired, true)
			// Kept across other writes and a rename.
			e.must(e.st.SetWorkspaceState(e.ctx, id, acl.StateRunning))
			e.must(e.st.RenameWorkspace(e.ctx, id, "ws2"))
			id2 := acl.WorkspaceID{Owner: "alice", Name: "ws2"}
			got, err = e.st.GetWorkspace(e.ctx, id2)
			e.must(err)
			wantEqual(e.t, "required after rename", got.UpdateRequired, true)
			list, err := e.st.ListWorkspaces(e.ctx)
			e.must(err)
			wantEqual(e.t, "required in list", list[0].UpdateRequired, true)
			e.must(e.st.SetWorkspaceUpdateRequired(e.ctx, id2, false))
			got, err = e.st.GetWorkspace(e.ctx, id2)
			e.must(err)
			wantEqual(e.t, "cleared", got.UpdateRequired, false)
			wantNotFound(e.t, e.st.SetWorkspaceUpdateRequired(e.ctx, id, true), "workspace", "alice/ws")
			w.expect(acl.Event{Kind: acl.EventWorkspaceRenamed, Workspace: id, WorkspaceUID: got.UID, NewName: "ws2"})
			w.quiet()
		}},
	}
}
