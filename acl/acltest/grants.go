package acltest

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

func grantCases() []testCase {
	return []testCase{
		{"grants/apply_and_list", func(e *env) {
			e.users("alice", "bob", "carol")
			e.group("devs")
			id := e.workspace("alice", "ws")
			expires := e.clock.Now().Add(time.Hour)
			e.apply(id, groupGrant("devs", acl.RoleAdmin),
				acl.GrantChange{Kind: acl.SubjectUser, Subject: "carol", Role: acl.RoleAdmin, ExpiresAt: expires},
				userGrant("bob", acl.RoleUse))
			now := e.clock.Now()
			wantEqual(e.t, "ListGrants", e.grants(id), []acl.Grant{
				{Workspace: id, Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse, CreatedAt: now},
				{Workspace: id, Kind: acl.SubjectUser, Subject: "carol", Role: acl.RoleAdmin, ExpiresAt: expires, CreatedAt: now},
				{Workspace: id, Kind: acl.SubjectGroup, Subject: "devs", Role: acl.RoleAdmin, CreatedAt: now},
			})
			_, err := e.st.ListGrants(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "nope"})
			wantNotFound(e.t, err, "workspace", "alice/nope")
			wantNotFound(e.t, e.st.ApplyGrants(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "nope"}, []acl.GrantChange{userGrant("bob", acl.RoleUse)}), "workspace", "alice/nope")
		}},
		{"grants/apply_is_atomic", func(e *env) {
			e.users("alice", "bob", "dave", "sus")
			e.group("devs")
			e.must(e.st.SetUserSuspended(e.ctx, "sus", true))
			id := e.workspace("alice", "ws")
			e.apply(id, userGrant("dave", acl.RoleAdmin))
			want := summary(e.grants(id))

			w := e.watch()
			// Each batch removes dave's grant and adds bob's before the bad
			// entry; none of it may stick, and nothing may be announced.
			ok := []acl.GrantChange{userGrant("dave", acl.RoleNone), userGrant("bob", acl.RoleUse)}
			bad := func(c acl.GrantChange) []acl.GrantChange { return append(append([]acl.GrantChange(nil), ok...), c) }
			wantNotFound(e.t, e.st.ApplyGrants(e.ctx, id, bad(userGrant("ghost", acl.RoleUse))), "user", "ghost")
			wantNotFound(e.t, e.st.ApplyGrants(e.ctx, id, bad(groupGrant("ghosts", acl.RoleUse))), "group", "ghosts")
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, bad(userGrant("sus", acl.RoleUse))), "sus")
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, bad(userGrant("alice", acl.RoleUse))), "alice")
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, bad(userGrant("alice", acl.RoleNone))), "alice")
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, bad(groupGrant("devs", acl.RoleOwner))), "devs")
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, bad(groupGrant("devs", acl.Role(9)))), "devs")
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, bad(userGrant("bob", acl.RoleAdmin))), "bob")
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, bad(userGrant("Bad", acl.RoleUse))), "Bad")
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, bad(acl.GrantChange{Kind: 7, Subject: "devs", Role: acl.RoleUse})), "devs")
			wantEqual(e.t, "grants after failed batches", summary(e.grants(id)), want)
			w.quiet()
			// A suspended user's grant can still be removed.
			e.must(e.st.SetUserSuspended(e.ctx, "dave", true))
			w.expect(acl.Event{Kind: acl.EventUserSuspended, User: "dave"})
			e.apply(id, userGrant("dave", acl.RoleNone))
			w.expect(acl.Event{Kind: acl.EventGrantRemoved, Workspace: id, WorkspaceUID: e.uid(id), User: "dave"})
			wantEqual(e.t, "grants", len(e.grants(id)), 0)
		}},
		{"grants/remove_missing_is_noop", func(e *env) {
			e.users("alice", "bob")
			e.group("devs")
			id := e.workspace("alice", "ws")
			w := e.watch()
			e.apply(id, userGrant("bob", acl.RoleNone), groupGrant("devs", acl.RoleNone))
			e.apply(id)
			w.quiet()
			e.apply(id, userGrant("bob", acl.RoleUse), groupGrant("devs", acl.RoleAdmin))
			w.quiet()
			e.apply(id, userGrant("bob", acl.RoleNone), groupGrant("devs", acl.RoleNone))
			w.expect(acl.Event{Kind: acl.EventGrantRemoved, Workspace: id, WorkspaceUID: e.uid(id), User: "bob"},
				acl.Event{Kind: acl.EventGrantRemoved, Workspace: id, WorkspaceUID: e.uid(id), Group: "devs"})
			wantEqual(e.t, "grants", len(e.grants(id)), 0)
		}},
		{"grants/lower_and_raise", func(e *env) {
			e.users("alice", "bob")
			e.group("devs")
			id := e.workspace("alice", "ws")
			created := e.clock.Now()
			e.apply(id, userGrant("bob", acl.RoleAdmin), groupGrant("devs", acl.RoleAdmin))
			w := e.watch()
			e.clock.Advance(time.Minute)
			e.apply(id, userGrant("bob", acl.RoleUse), groupGrant("devs", acl.RoleUse))
			w.expect(acl.Event{Kind: acl.EventGrantLowered, Workspace: id, WorkspaceUID: e.uid(id), User: "bob", Role: acl.RoleUse},
				acl.Event{Kind: acl.EventGrantLowered, Workspace: id, WorkspaceUID: e.uid(id), Group: "devs", Role: acl.RoleUse})
			e.clock.Advance(time.Minute)
			expires := e.clock.Now().Add(time.Hour)
			e.apply(id, acl.GrantChange{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleAdmin, ExpiresAt: expires}, groupGrant("devs", acl.RoleUse))
			w.quiet()
			wantEqual(e.t, "grants", e.grants(id), []acl.Grant{
				{Workspace: id, Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleAdmin, ExpiresAt: expires, CreatedAt: created},
				{Workspace: id, Kind: acl.SubjectGroup, Subject: "devs", Role: acl.RoleUse, CreatedAt: created},
			})
		}},
		{"grants/clear", func(e *env) {
			e.users("alice", "bob", "carol")
			e.group("devs")
			id := e.workspace("alice", "ws")
			e.apply(id, userGrant("bob", acl.RoleUse), userGrant("carol", acl.RoleAdmin), groupGrant("devs", acl.RoleUse))
			w := e.watch()
			e.must(e.st.ClearGrants(e.ctx, id))
			w.expectAnyOrder(
				acl.Event{Kind: acl.EventGrantRemoved, Workspace: id, WorkspaceUID: e.uid(id), User: "bob"},
				acl.Event{Kind: acl.EventGrantRemoved, Workspace: id, WorkspaceUID: e.uid(id), User: "carol"},
				acl.Event{Kind: acl.EventGrantRemoved, Workspace: id, WorkspaceUID: e.uid(id), Group: "devs"})
			wantEqual(e.t, "grants", len(e.grants(id)), 0)
			e.must(e.st.ClearGrants(e.ctx, id))
			w.quiet()
			wantNotFound(e.t, e.st.ClearGrants(e.ctx, acl.WorkspaceID{Owner: "alice", Name: "x"}), "workspace", "alice/x")
		}},
		{"grants/shared_with_user", func(e *env) {
			e.users("alice", "bob", "carol", "zoe")
			e.group("devs", "bob")
			e.group("ops", "bob")
			e.group("qa", "bob")
			e.group("others", "zoe")
			w1 := e.workspace("alice", "w1")
			w2 := e.workspace("carol", "w2")
			w3 := e.workspace("alice", "w3")
			w0 := e.workspace("zoe", "w0")
			e.apply(w1, userGrant("bob", acl.RoleUse), groupGrant("devs", acl.RoleAdmin))
			e.apply(w2, groupGrant("qa", acl.RoleUse), groupGrant("ops", acl.RoleUse))
			e.apply(w3, groupGrant("others", acl.RoleAdmin))
			e.apply(w0, userGrant("bob", acl.RoleAdmin))

			got := e.sharedWithUser("bob")
			ws := func(id acl.WorkspaceID) acl.Workspace {
				w, err := e.st.GetWorkspace(e.ctx, id)
				e.must(err)
				return w
			}
			wantEqual(e.t, "shared with bob", got, []acl.SharedWorkspace{
				{Workspace: ws(w1), Role: acl.RoleAdmin, Direct: true, ViaGroups: []string{"devs"}},
				{Workspace: ws(w2), Role: acl.RoleUse, ViaGroups: []string{"ops", "qa"}},
				{Workspace: ws(w0), Role: acl.RoleAdmin, Direct: true},
			})
			wantEqual(e.t, "shared with carol", len(e.sharedWithUser("carol")), 0)
			_, err := e.st.WorkspacesSharedWithUser(e.ctx, "ghost")
			wantNotFound(e.t, err, "user", "ghost")
		}},
		{"grants/shared_with_group", func(e *env) {
			e.users("alice", "bob")
			e.group("devs")
			e.group("idle")
			w2 := e.workspace("alice", "w2")
			w1 := e.workspace("alice", "w1")
			e.apply(w2, groupGrant("devs", acl.RoleUse), userGrant("bob", acl.RoleAdmin))
			e.apply(w1, groupGrant("devs", acl.RoleAdmin))
			got := e.sharedWithGroup("devs")
			wantEqual(e.t, "shared with devs", names(got, func(s acl.SharedWorkspace) string {
				return s.Workspace.ID().String() + "=" + s.Role.String()
			}), []string{"alice/w1=admin", "alice/w2=use"})
			wantEqual(e.t, "shared with idle", len(e.sharedWithGroup("idle")), 0)
			_, err := e.st.WorkspacesSharedWithGroup(e.ctx, "ghosts")
			wantNotFound(e.t, err, "group", "ghosts")
		}},
		{"grants/expiry", func(e *env) {
			e.users("alice", "bob")
			e.group("devs", "bob")
			id := e.workspace("alice", "ws")
			start := e.clock.Now()
			e.apply(id,
				acl.GrantChange{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleAdmin, ExpiresAt: start.Add(time.Hour)},
				acl.GrantChange{Kind: acl.SubjectGroup, Subject: "devs", Role: acl.RoleUse, ExpiresAt: start.Add(2 * time.Hour)})
			w := e.watch()
			n, err := e.st.DeleteExpiredGrants(e.ctx, e.clock.Now())
			e.must(err)
			wantEqual(e.t, "expired before the hour", n, 0)

			// Exactly at ExpiresAt the grant is over.
			e.clock.Advance(time.Hour)
			wantEqual(e.t, "grants at 1h", summary(e.grants(id)), "group:devs=use")
			shared := e.sharedWithUser("bob")
			wantEqual(e.t, "shared at 1h", shared[0].Direct, false)
			wantEqual(e.t, "role at 1h", shared[0].Role, acl.RoleUse)
			n, err = e.st.DeleteExpiredGrants(e.ctx, e.clock.Now())
			e.must(err)
			wantEqual(e.t, "expired at 1h", n, 1)
			w.expect(acl.Event{Kind: acl.EventGrantExpired, Workspace: id, WorkspaceUID: e.uid(id), User: "bob"})
			n, err = e.st.DeleteExpiredGrants(e.ctx, e.clock.Now())
			e.must(err)
			wantEqual(e.t, "expired again", n, 0)
			w.quiet()

			// An expired grant that was not swept yet is replaced like a
			// new one: fresh CreatedAt, no event.
			e.clock.Advance(time.Hour)
			wantEqual(e.t, "shared with devs at 2h", len(e.sharedWithGroup("devs")), 0)
			wantEqual(e.t, "shared with bob at 2h", len(e.sharedWithUser("bob")), 0)
			e.apply(id, groupGrant("devs", acl.RoleUse))
			w.quiet()
			wantEqual(e.t, "regranted", e.grants(id), []acl.Grant{
				{Workspace: id, Kind: acl.SubjectGroup, Subject: "devs", Role: acl.RoleUse, CreatedAt: e.clock.Now()}})
			n, err = e.st.DeleteExpiredGrants(e.ctx, e.clock.Now())
			e.must(err)
			wantEqual(e.t, "nothing left to expire", n, 0)
			wantEqual(e.t, "shared with devs", len(e.sharedWithGroup("devs")), 1)
		}},
		{"grants/expiry_bounds", func(e *env) {
			e.users("alice", "bob")
			id := e.workspace("alice", "ws")
			e.apply(id, acl.GrantChange{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse, ExpiresAt: e.clock.Now().Add(time.Nanosecond)})
			n, err := e.st.DeleteExpiredGrants(e.ctx, e.clock.Now())
			e.must(err)
			wantEqual(e.t, "one nanosecond early", n, 0)
			wantEqual(e.t, "live grant", len(e.grants(id)), 1)
			n, err = e.st.DeleteExpiredGrants(e.ctx, e.clock.Now().Add(time.Nanosecond))
			e.must(err)
			wantEqual(e.t, "on the nanosecond", n, 1)
			wantInvalid(e.t, e.st.ApplyGrants(e.ctx, id, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "bob", Role: acl.RoleUse,
				ExpiresAt: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)}}), "expires")
		}},
	}
}
