package acltest

import (
	"github.com/wsgate/wsgate/acl"
)

func groupCases() []testCase {
	return []testCase{
		{"groups/create_get_list", func(e *env) {
			e.users("bob", "carol", "dave")
			e.must(e.st.CreateGroup(e.ctx, acl.Group{Name: "ops", Org: "acme", Members: []string{"dave", "bob"}}))
			e.group("devs", "carol", "bob")
			e.group("empty")
			g, err := e.st.GetGroup(e.ctx, "ops")
			e.must(err)
			wantEqual(e.t, "ops", g, acl.Group{Name: "ops", Org: "acme", Members: []string{"bob", "dave"}, CreatedAt: e.clock.Now()})
			gs, err := e.st.ListGroups(e.ctx)
			e.must(err)
			wantEqual(e.t, "ListGroups", names(gs, func(g acl.Group) string { return g.Name }), []string{"devs", "empty", "ops"})
			wantEqual(e.t, "devs members", gs[0].Members, []string{"bob", "carol"})
			wantEqual(e.t, "empty members", len(gs[1].Members), 0)
			wantEqual(e.t, "bob's groups", e.getUser("bob").Groups, []string{"devs", "ops"})
		}},
		{"groups/create_rejects", func(e *env) {
			e.user("bob")
			e.group("devs")
			wantConflict(e.t, e.st.CreateGroup(e.ctx, acl.Group{Name: "devs"}), "group")
			wantInvalid(e.t, e.st.CreateGroup(e.ctx, acl.Group{Name: "Devs"}), "group name")
			wantInvalid(e.t, e.st.CreateGroup(e.ctx, acl.Group{Name: "qa", Org: "-x"}), "org name")
			wantNotFound(e.t, e.st.CreateGroup(e.ctx, acl.Group{Name: "qa", Members: []string{"bob", "ghost"}}), "user", "ghost")
			_, err := e.st.GetGroup(e.ctx, "qa")
			wantNotFound(e.t, err, "group", "qa")
			wantEqual(e.t, "bob's groups", len(e.getUser("bob").Groups), 0)
		}},
		{"groups/members_add_remove", func(e *env) {
			e.users("bob", "carol")
			e.group("devs")
			e.must(e.st.AddGroupMember(e.ctx, "devs", "carol"))
			e.must(e.st.AddGroupMember(e.ctx, "devs", "bob"))
			wantConflict(e.t, e.st.AddGroupMember(e.ctx, "devs", "bob"), "member")
			wantNotFound(e.t, e.st.AddGroupMember(e.ctx, "nope", "bob"), "group", "nope")
			wantNotFound(e.t, e.st.AddGroupMember(e.ctx, "devs", "ghost"), "user", "ghost")
			g, err := e.st.GetGroup(e.ctx, "devs")
			e.must(err)
			wantEqual(e.t, "members", g.Members, []string{"bob", "carol"})

			w := e.watch()
			e.must(e.st.RemoveGroupMember(e.ctx, "devs", "bob"))
			w.expect(acl.Event{Kind: acl.EventGroupMemberRemoved, Group: "devs", User: "bob"})
			wantNotFound(e.t, e.st.RemoveGroupMember(e.ctx, "devs", "bob"), "member", "bob")
			wantNotFound(e.t, e.st.RemoveGroupMember(e.ctx, "nope", "bob"), "group", "nope")
			w.quiet()
			wantEqual(e.t, "bob's groups", len(e.getUser("bob").Groups), 0)
			wantEqual(e.t, "carol's groups", e.getUser("carol").Groups, []string{"devs"})
		}},
		{"groups/delete_removes_grants", func(e *env) {
			e.users("alice", "bob")
			e.group("devs", "bob")
			ws := e.workspace("alice", "ws")
			e.apply(ws, groupGrant("devs", acl.RoleAdmin), userGrant("bob", acl.RoleUse))

			w := e.watch()
			e.must(e.st.DeleteGroup(e.ctx, "devs"))
			w.expect(acl.Event{Kind: acl.EventGroupDeleted, Group: "devs"})
			wantNotFound(e.t, e.st.DeleteGroup(e.ctx, "devs"), "group", "devs")
			_, err := e.st.GetGroup(e.ctx, "devs")
			wantNotFound(e.t, err, "group", "devs")
			wantEqual(e.t, "grants", summary(e.grants(ws)), "user:bob=use")
			wantEqual(e.t, "bob's groups", len(e.getUser("bob").Groups), 0)

			e.group("devs")
			wantEqual(e.t, "shared with new devs", len(e.sharedWithGroup("devs")), 0)
		}},
		{"orgs/create_get_list", func(e *env) {
			e.must(e.st.CreateOrg(e.ctx, acl.Org{Name: "zeta"}))
			e.must(e.st.CreateOrg(e.ctx, acl.Org{Name: "acme"}))
			wantConflict(e.t, e.st.CreateOrg(e.ctx, acl.Org{Name: "acme"}), "org")
			wantInvalid(e.t, e.st.CreateOrg(e.ctx, acl.Org{Name: "ac me"}), "org name")
			o, err := e.st.GetOrg(e.ctx, "acme")
			e.must(err)
			wantEqual(e.t, "acme", o, acl.Org{Name: "acme", CreatedAt: e.clock.Now()})
			_, err = e.st.GetOrg(e.ctx, "nope")
			wantNotFound(e.t, err, "org", "nope")
			os, err := e.st.ListOrgs(e.ctx)
			e.must(err)
			wantEqual(e.t, "ListOrgs", names(os, func(o acl.Org) string { return o.Name }), []string{"acme", "zeta"})
		}},
		{"orgs/sharing_disabled_events", func(e *env) {
			e.must(e.st.CreateOrg(e.ctx, acl.Org{Name: "acme"}))
			w := e.watch()
			e.must(e.st.SetOrgSharingDisabled(e.ctx, "acme", true))
			w.expect(acl.Event{Kind: acl.EventSharingDisabled, Org: "acme"})
			o, err := e.st.GetOrg(e.ctx, "acme")
			e.must(err)
			if !o.SharingDisabled {
				e.t.Fatal("sharing not disabled")
			}
			e.must(e.st.SetOrgSharingDisabled(e.ctx, "acme", false))
			w.quiet()
			wantNotFound(e.t, e.st.SetOrgSharingDisabled(e.ctx, "nope", true), "org", "nope")
			// An org created with sharing disabled narrows what names it.
			e.must(e.st.CreateOrg(e.ctx, acl.Org{Name: "beta", SharingDisabled: true}))
			w.expect(acl.Event{Kind: acl.EventSharingDisabled, Org: "beta"})
		}},
		{"settings/roundtrip_events", func(e *env) {
			s, err := e.st.GetSettings(e.ctx)
			e.must(err)
			wantEqual(e.t, "initial settings", s, acl.Settings{})
			w := e.watch()
			e.must(e.st.SetSettings(e.ctx, acl.Settings{SharingDisabled: true}))
			w.expect(acl.Event{Kind: acl.EventSharingDisabled})
			s, err = e.st.GetSettings(e.ctx)
			e.must(err)
			wantEqual(e.t, "settings", s, acl.Settings{SharingDisabled: true})
			e.must(e.st.SetSettings(e.ctx, acl.Settings{}))
			w.quiet()
			s, err = e.st.GetSettings(e.ctx)
			e.must(err)
			wantEqual(e.t, "settings", s, acl.Settings{})
		}},
	}
}
