package acltest

import (
	"errors"
	"strings"
	"sync"

	"github.com/wsgate/wsgate/acl"
)

// uidCases check workspace UIDs: assigned once, never changed, never
// found again once their workspace is gone.
func uidCases() []testCase {
	return []testCase{
		{"uids/assigned_unique", func(e *env) {
			e.users("alice", "bob")
			ids := []acl.WorkspaceID{e.workspace("alice", "a"), e.workspace("alice", "b"), e.workspace("bob", "a")}
			seen := map[string]acl.WorkspaceID{}
			for _, id := range ids {
				uid := e.uid(id)
				if err := acl.ValidateUID(uid); err != nil {
					e.t.Fatalf("assigned uid of %s: %v", id, err)
				}
				if other, dup := seen[uid]; dup {
					e.t.Fatalf("%s and %s share uid %q", id, other, uid)
				}
				seen[uid] = id
				byUID, err := e.st.GetWorkspaceByUID(e.ctx, uid)
				e.must(err)
				byID, err := e.st.GetWorkspace(e.ctx, id)
				e.must(err)
				wantEqual(e.t, "by uid", byUID, byID)
			}
			// Listings carry the UIDs too.
			all, err := e.st.ListWorkspaces(e.ctx)
			e.must(err)
			for _, w := range all {
				wantEqual(e.t, "listed uid of "+w.ID().String(), seen[w.UID], w.ID())
			}
			_, err = e.st.GetWorkspaceByUID(e.ctx, "no-such-uid")
			wantNotFound(e.t, err, "workspace", "no-such-uid")
			_, err = e.st.GetWorkspaceByUID(e.ctx, "")
			wantNotFound(e.t, err, "workspace", "")
			_, err = e.st.GetWorkspaceByUID(e.ctx, "not a uid")
			wantNotFound(e.t, err, "workspace", "not a uid")
		}},
		{"uids/kept_by_every_write", func(e *env) {
			e.users("alice", "bob")
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "old", AgentTokenHash: "agent-1"}))
			old := acl.WorkspaceID{Owner: "alice", Name: "old"}
			uid := e.uid(old)
			e.apply(old, userGrant("bob", acl.RoleAdmin))
			w := e.watch()

			e.must(e.st.RenameWorkspace(e.ctx, old, "new"))
			id := acl.WorkspaceID{Owner: "alice", Name: "new"}
			w.expect(acl.Event{Kind: acl.EventWorkspaceRenamed, Workspace: old, WorkspaceUID: uid, NewName: "new"})
			wantEqual(e.t, "uid after rename", e.uid(id), uid)
			got, err := e.st.GetWorkspaceByUID(e.ctx, uid)
			e.must(err)
			wantEqual(e.t, "by uid after rename", got.ID(), id)

			e.must(e.st.SetWorkspaceState(e.ctx, id, acl.StateStopped))
			w.expect(acl.Event{Kind: acl.EventWorkspaceStopped, Workspace: id, WorkspaceUID: uid})
			e.must(e.st.SetAgentTokenHash(e.ctx, id, "agent-2"))
			w.expect(acl.Event{Kind: acl.EventAgentTokenRotated, Workspace: id, WorkspaceUID: uid})
			e.apply(id, userGrant("bob", acl.RoleUse))
			w.expect(acl.Event{Kind: acl.EventGrantLowered, Workspace: id, WorkspaceUID: uid, User: "bob", Role: acl.RoleUse})
			e.must(e.st.ClearGrants(e.ctx, id))
			w.expect(acl.Event{Kind: acl.EventGrantRemoved, Workspace: id, WorkspaceUID: uid, User: "bob"})
			wantEqual(e.t, "uid after writes", e.uid(id), uid)
			byToken, err := e.st.WorkspaceByAgentTokenHash(e.ctx, "agent-2")
			e.must(err)
			wantEqual(e.t, "uid by agent token", byToken.UID, uid)
			got, err = e.st.GetWorkspaceByUID(e.ctx, uid)
			e.must(err)
			wantEqual(e.t, "state by uid", got.State, acl.StateStopped)

			// The old name, created again, is another workspace.
			e.workspace("alice", "old")
			if e.uid(old) == uid {
				e.t.Fatalf("new alice/old reuses the renamed workspace's uid %q", uid)
			}
		}},
		{"uids/delete_and_recreate", func(e *env) {
			e.user("alice")
			id := e.workspace("alice", "ws")
			uid := e.uid(id)
			w := e.watch()
			e.must(e.st.DeleteWorkspace(e.ctx, id))
			w.expect(acl.Event{Kind: acl.EventWorkspaceDeleted, Workspace: id, WorkspaceUID: uid})
			_, err := e.st.GetWorkspaceByUID(e.ctx, uid)
			wantNotFound(e.t, err, "workspace", uid)

			e.workspace("alice", "ws")
			again := e.uid(id)
			if again == uid {
				e.t.Fatalf("re-created workspace got the deleted one's uid %q", uid)
			}
			_, err = e.st.GetWorkspaceByUID(e.ctx, uid)
			wantNotFound(e.t, err, "workspace", uid)
			got, err := e.st.GetWorkspaceByUID(e.ctx, again)
			e.must(err)
			wantEqual(e.t, "new uid finds", got.ID(), id)
		}},
		{"uids/caller_given", func(e *env) {
			e.user("alice")
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{UID: "given-1", Owner: "alice", Name: "a"}))
			wantEqual(e.t, "given uid", e.uid(acl.WorkspaceID{Owner: "alice", Name: "a"}), "given-1")
			got, err := e.st.GetWorkspaceByUID(e.ctx, "given-1")
			e.must(err)
			wantEqual(e.t, "by given uid", got.Name, "a")

			w := e.watch()
			wantConflict(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{UID: "given-1", Owner: "alice", Name: "b"}), "workspace")
			wantInvalid(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{UID: "has space", Owner: "alice", Name: "b"}), "uid")
			wantInvalid(e.t, e.st.CreateWorkspace(e.ctx, acl.Workspace{UID: strings.Repeat("x", acl.MaxUIDLen+1), Owner: "alice", Name: "b"}), "uid")
			_, err = e.st.GetWorkspace(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "b"})
			wantNotFound(e.t, err, "workspace", "alice/b")
			got, err = e.st.GetWorkspaceByUID(e.ctx, "given-1")
			e.must(err)
			wantEqual(e.t, "uid still names", got.Name, "a")
			w.quiet()
		}},
		{"uids/concurrent_same_uid", func(e *env) {
			e.user("alice")
			var mu sync.Mutex
			var winners []string
			names := numbered("w", 20)
			e.concurrently(len(names), func(i int) error {
				err := e.st.CreateWorkspace(e.ctx, acl.Workspace{UID: "contested", Owner: "alice", Name: names[i]})
				if errors.Is(err, acl.ErrConflict) {
					return nil
				}
				mu.Lock()
				winners = append(winners, names[i])
				mu.Unlock()
				return err
			})
			if len(winners) != 1 {
				e.t.Fatalf("winners %v, want one", winners)
			}
			got, err := e.st.GetWorkspaceByUID(e.ctx, "contested")
			e.must(err)
			wantEqual(e.t, "winner by uid", got.Name, winners[0])
			all, err := e.st.ListWorkspaces(e.ctx)
			e.must(err)
			wantEqual(e.t, "workspaces", len(all), 1)
		}},
	}
}
