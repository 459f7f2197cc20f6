package acltest

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

func workspaceCases() []testCase {
	return []testCase{
		{"workspaces/create_get", func(e *env) {
			e.user("alice")
			in := acl.Workspace{Owner: "alice", Name: "ws", Org: "acme", State: acl.StateStarting, AgentTokenHash: "agent-1"}
			e.must(e.st.CreateWorkspace(e.ctx, in))
			got, err := e.st.GetWorkspace(e.ctx, in.ID())
			e.must(err)
			in.CreatedAt, in.UpdatedAt = e.clock.Now(), e.clock.Now()
			in.UID = e.uid(in.ID()) // assigned by the store; see uidCases
			wantEqual(e.t, "GetWorkspace", got, in)
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "bare"}))
			bare, err := e.st.GetWorkspace(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "bare"})
			e.must(err)
			wantEqual(e.t, "default state", bare.State, acl.StateStopped)
			_, err = e.st.GetWorkspace(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "nope"})
			wantNotFound(e.t, err, "workspace", "alice/nope")
			_, err = e.st.GetWorkspace(e.ctx, acl.WorkspaceID{Owner: "a:b", Name: "c"})
			wantNotFound(e.t, err, "workspace", "a:b/c")
		}},
		{"workspaces/create_rejects", func(e *env) {
			e.user("alice")
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws", AgentTokenHash: "agent-1"}))
			wantConflict(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws"}), "workspace")
			wantConflict(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws2", AgentTokenHash: "agent-1"}), "workspace")
			wantNotFound(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "ghost", Name: "ws"}), "user", "ghost")
			wantInvalid(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "My WS"}), "workspace name")
			wantInvalid(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws3", State: "paused"}), "paused")
			wsl, err := e.st.ListWorkspaces(e.ctx)
			e.must(err)
			wantEqual(e.t, "workspaces", names(wsl, func(w acl.Workspace) string { return w.ID().String() }), []string{"alice/ws"})
		}},
		{"workspaces/agent_token_lookup_and_rotate", func(e *env) {
			e.user("alice")
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws", AgentTokenHash: "agent-1"}))
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "other", AgentTokenHash: "agent-9"}))
			id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
			got, err := e.st.WorkspaceByAgentTokenHash(e.ctx, "agent-1")
			e.must(err)
			wantEqual(e.t, "by agent token", got.ID(), id)

			w := e.watch()
			e.clock.Advance(time.Minute)
			e.must(e.st.SetAgentTokenHash(e.ctx, id, "agent-2"))
			w.expect(acl.Event{Kind: acl.EventAgentTokenRotated, Workspace: id, WorkspaceUID: e.uid(id)})
			_, err = e.st.WorkspaceByAgentTokenHash(e.ctx, "agent-1")
			if !isNotFound(err) {
				e.t.Fatalf("old agent token still works: %v", err)
			}
			got, err = e.st.WorkspaceByAgentTokenHash(e.ctx, "agent-2")
			e.must(err)
			wantEqual(e.t, "new hash", got.AgentTokenHash, "agent-2")
			wantEqual(e.t, "updated at", got.UpdatedAt, e.clock.Now())
			wantConflict(e.t, e.st.SetAgentTokenHash(e.ctx, id, "agent-9"), "workspace")
			_, err = e.st.WorkspaceByAgentTokenHash(e.ctx, "")
			if !isNotFound(err) {
				e.t.Fatalf("empty hash: %v", err)
			}
			wantNotFound(e.t, e.st.SetAgentTokenHash(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "nope"}, "x"), "workspace", "alice/nope")
			w.quiet()
		}},
		{"workspaces/state_events", func(e *env) {
			e.user("alice")
			id := e.workspace("alice", "ws")
			w := e.watch()
			for _, st := range []acl.WorkspaceState{acl.StateStarting, acl.StateRunning} {
				e.must(e.st.SetWorkspaceState(e.ctx, id, st))
			}
			w.quiet()
			for _, st := range []acl.WorkspaceState{acl.StateStopping, acl.StateStopped, acl.StateFailed} {
				e.clock.Advance(time.Second)
				e.must(e.st.SetWorkspaceState(e.ctx, id, st))
				w.expect(acl.Event{Kind: acl.EventWorkspaceStopped, Workspace: id, WorkspaceUID: e.uid(id)})
				got, err := e.st.GetWorkspace(e.ctx, id)
				e.must(err)
				if got.State != st || !got.UpdatedAt.Equal(e.clock.Now()) {
					e.t.Fatalf("after %s: state %s updated %v", st, got.State, got.UpdatedAt)
				}
			}
			wantInvalid(e.t, e.st.SetWorkspaceState(e.ctx, id, "paused"), "paused")
			wantInvalid(e.t, e.st.SetWorkspaceState(e.ctx, id, ""), "state")
			wantNotFound(e.t, e.st.SetWorkspaceState(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "x"}, acl.StateStopped), "workspace", "alice/x")
			w.quiet()
		}},
		{"workspaces/rename_keeps_grants", func(e *env) {
			e.users("alice", "bob")
			e.group("devs", "bob")
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "old", AgentTokenHash: "agent-1"}))
			old := acl.WorkspaceID{Owner: "alice", Name: "old"}
			e.workspace("alice", "taken")
			expires := e.clock.Now().Add(time.Hour)
			e.apply(old, acl.GrantChange{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleAdmin, ExpiresAt: expires}, groupGrant("devs", acl.RoleUse))
			before := e.grants(old)

			w := e.watch()
			wantConflict(e.t, e.st.RenameWorkspace(e.ctx, old, "taken"), "workspace")
			wantInvalid(e.t, e.st.RenameWorkspace(e.ctx, old, "Bad"), "workspace name")
			wantNotFound(e.t, e.st.RenameWorkspace(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "nope"}, "x"), "workspace", "alice/nope")
			w.quiet()
			e.clock.Advance(time.Minute)
			uid := e.uid(old)
			e.must(e.st.RenameWorkspace(e.ctx, old, "new"))
			w.expect(acl.Event{Kind: acl.EventWorkspaceRenamed, Workspace: old, WorkspaceUID: uid, NewName: "new"})

			renamed := acl.WorkspaceID{Owner: "alice", Name: "new"}
			_, err := e.st.GetWorkspace(e.ctx, old)
			wantNotFound(e.t, err, "workspace", "alice/old")
			_, err = e.st.ListGrants(e.ctx, old)
			wantNotFound(e.t, err, "workspace", "alice/old")
			for i := range before {
				before[i].Workspace = renamed
			}
			wantEqual(e.t, "grants after rename", e.grants(renamed), before)
			got, err := e.st.WorkspaceByAgentTokenHash(e.ctx, "agent-1")
			e.must(err)
			wantEqual(e.t, "agent token follows", got.ID(), renamed)
			wantEqual(e.t, "updated at", got.UpdatedAt, e.clock.Now())
			shared := e.sharedWithUser("bob")
			wantEqual(e.t, "shared with bob", names(shared, func(s acl.SharedWorkspace) string { return s.Workspace.ID().String() }), []string{"alice/new"})
			owned, err := e.st.WorkspacesOwnedBy(e.ctx, "alice")
			e.must(err)
			wantEqual(e.t, "owned", names(owned, func(w acl.Workspace) string { return w.Name }), []string{"new", "taken"})
			// The expiry index follows the rename too.
			e.clock.Advance(time.Hour)
			n, err := e.st.DeleteExpiredGrants(e.ctx, e.clock.Now())
			e.must(err)
			wantEqual(e.t, "expired", n, 1)
			w.expect(acl.Event{Kind: acl.EventGrantExpired, Workspace: renamed, WorkspaceUID: e.uid(renamed), User: "bob"})
			// Renaming to the current name changes nothing.
			e.must(e.st.RenameWorkspace(e.ctx, renamed, "new"))
			w.quiet()
		}},
		{"workspaces/delete_removes_grants", func(e *env) {
			e.users("alice", "bob")
			e.group("devs", "bob")
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws", AgentTokenHash: "agent-1"}))
			id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
			e.apply(id, userGrant("bob", acl.RoleUse), groupGrant("devs", acl.RoleUse))
			w := e.watch()
			uid := e.uid(id)
			e.must(e.st.DeleteWorkspace(e.ctx, id))
			w.expect(acl.Event{Kind: acl.EventWorkspaceDeleted, Workspace: id, WorkspaceUID: uid})
			wantNotFound(e.t, e.st.DeleteWorkspace(e.ctx, id), "workspace", "alice/ws")
			_, err := e.st.WorkspaceByAgentTokenHash(e.ctx, "agent-1")
			if !isNotFound(err) {
				e.t.Fatalf("agent token of deleted workspace: %v", err)
			}
			wantEqual(e.t, "shared with bob", len(e.sharedWithUser("bob")), 0)
			e.workspace("alice", "ws")
			wantEqual(e.t, "grants of new ws", len(e.grants(id)), 0)
		}},
		{"workspaces/listings_sorted", func(e *env) {
			// Sorted by owner then name: "a" before "a-b" although '-' < '/'.
			e.users("a-b", "a", "zed")
			e.workspace("a-b", "y")
			e.workspace("a", "x")
			e.workspace("a", "b")
			all, err := e.st.ListWorkspaces(e.ctx)
			e.must(err)
			wantEqual(e.t, "ListWorkspaces", names(all, func(w acl.Workspace) string { return w.ID().String() }), []string{"a/b", "a/x", "a-b/y"})
			owned, err := e.st.WorkspacesOwnedBy(e.ctx, "a")
			e.must(err)
			wantEqual(e.t, "owned by a", names(owned, func(w acl.Workspace) string { return w.ID().String() }), []string{"a/b", "a/x"})
			owned, err = e.st.WorkspacesOwnedBy(e.ctx, "zed")
			e.must(err)
			wantEqual(e.t, "owned by zed", len(owned), 0)
			_, err = e.st.WorkspacesOwnedBy(e.ctx, "ghost")
			wantNotFound(e.t, err, "user", "ghost")
		}},
	}
}
