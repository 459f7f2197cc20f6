package acltest

import (
	"strings"
	"time"

	"github.com/wsgate/wsgate/acl"
)

func key(n string) acl.PublicKey {
	return acl.PublicKey{Fingerprint: "SHA256:fp-" + n, AuthorizedKey: "ssh-ed25519 AAAA" + n}
}

func userCases() []testCase {
	return []testCase{
		{"users/create_get_list", func(e *env) {
			added := e.clock.Now().Add(-time.Hour)
			k1, k2 := key("1"), key("2")
			k1.AddedAt, k1.Comment = added, "laptop"
			in := acl.User{Name: "bob", DisplayName: "Bob B", Org: "acme", SiteAdmin: true,
				Keys: []acl.PublicKey{k2, k1}, Groups: []string{"ignored"}}
			e.must(e.st.CreateUser(e.ctx, in))
			e.user("alice")

			k2.AddedAt = e.clock.Now()
			want := acl.User{Name: "bob", DisplayName: "Bob B", Org: "acme", SiteAdmin: true,
				Keys: []acl.PublicKey{k1, k2}, CreatedAt: e.clock.Now()}
			wantEqual(e.t, "GetUser", e.getUser("bob"), want)
			us, err := e.st.ListUsers(e.ctx)
			e.must(err)
			wantEqual(e.t, "ListUsers", names(us, func(u acl.User) string { return u.Name }), []string{"alice", "bob"})
			wantEqual(e.t, "listed bob", us[1], want)
		}},
		{"users/get_users_reads_many", func(e *env) {
			e.users("alice", "bob")
			e.must(e.st.AddUserKey(e.ctx, "bob", key("1")))
			e.must(e.st.CreateGroup(e.ctx, acl.Group{Name: "ops", Members: []string{"bob"}}))
			got, err := e.st.GetUsers(e.ctx, []string{"bob", "nobody", "Not:Valid", "alice"})
			e.must(err)
			wantEqual(e.t, "GetUsers", got, map[string]acl.User{"alice": e.getUser("alice"), "bob": e.getUser("bob")})
			wantEqual(e.t, "bob's groups", got["bob"].Groups, []string{"ops"})
			got, err = e.st.GetUsers(e.ctx, nil)
			e.must(err)
			wantEqual(e.t, "GetUsers of none", len(got), 0)
		}},
		{"users/duplicate_is_conflict", func(e *env) {
			e.user("bob")
			err := e.st.CreateUser(e.ctx, acl.User{Name: "bob", DisplayName: "other"})
			wantConflict(e.t, err, "user")
			wantEqual(e.t, "display name kept", e.getUser("bob").DisplayName, "")
		}},
		{"users/invalid_names", func(e *env) {
			for _, n := range []string{"", "Bob", "-bob", "bob-", "bo--b", "a/b", "a:b", "a b", strings.Repeat("a", acl.MaxNameLen+1)} {
				wantInvalid(e.t, e.st.CreateUser(e.ctx, acl.User{Name: n}), "user name")
			}
			wantInvalid(e.t, e.st.CreateUser(e.ctx, acl.User{Name: "bob", Org: "Bad Org"}), "org name")
			wantInvalid(e.t, e.st.CreateUser(e.ctx, acl.User{Name: "bob", Keys: []acl.PublicKey{{AuthorizedKey: "x"}}}), "fingerprint")
			us, err := e.st.ListUsers(e.ctx)
			e.must(err)
			wantEqual(e.t, "users after failed creates", len(us), 0)
		}},
		{"users/not_found", func(e *env) {
			_, err := e.st.GetUser(e.ctx, "nobody")
			wantNotFound(e.t, err, "user", "nobody")
			_, err = e.st.GetUser(e.ctx, "Not:Valid")
			wantNotFound(e.t, err, "user", "Not:Valid")
			wantNotFound(e.t, e.st.SetUserSuspended(e.ctx, "nobody", true), "user", "nobody")
			wantNotFound(e.t, e.st.SetUserSiteAdmin(e.ctx, "nobody", true), "user", "nobody")
			wantNotFound(e.t, e.st.DeleteUser(e.ctx, "nobody"), "user", "nobody")
			wantNotFound(e.t, e.st.AddUserKey(e.ctx, "nobody", key("1")), "user", "nobody")
			wantNotFound(e.t, e.st.RemoveUserKey(e.ctx, "nobody", "SHA256:x"), "user", "nobody")
		}},
		{"users/suspend_and_site_admin_events", func(e *env) {
			e.user("bob")
			w := e.watch()
			e.must(e.st.SetUserSiteAdmin(e.ctx, "bob", true))
			w.quiet()
			if !e.getUser("bob").SiteAdmin {
				e.t.Fatal("site admin not set")
			}
			e.must(e.st.SetUserSiteAdmin(e.ctx, "bob", false))
			w.expect(acl.Event{Kind: acl.EventSiteAdminRevoked, User: "bob"})
			e.must(e.st.SetUserSuspended(e.ctx, "bob", true))
			w.expect(acl.Event{Kind: acl.EventUserSuspended, User: "bob"})
			u := e.getUser("bob")
			if !u.Suspended || u.SiteAdmin {
				e.t.Fatalf("flags after writes: %+v", u)
			}
			e.must(e.st.SetUserSuspended(e.ctx, "bob", false))
			w.quiet()
			if e.getUser("bob").Suspended {
				e.t.Fatal("still suspended")
			}
		}},
		{"users/delete_removes_everything", func(e *env) {
			e.users("alice", "bob", "carol")
			e.must(e.st.AddUserKey(e.ctx, "bob", key("bob")))
			e.must(e.st.CreateToken(e.ctx, acl.Token{ID: "t1", User: "bob", Name: "cli", Hash: "hash-bob"}))
			e.group("devs", "bob", "carol")
			ws := e.workspace("alice", "ws")
			e.apply(ws, userGrant("bob", acl.RoleAdmin), userGrant("carol", acl.RoleUse), groupGrant("devs", acl.RoleUse))

			w := e.watch()
			e.must(e.st.DeleteUser(e.ctx, "bob"))
			w.expect(acl.Event{Kind: acl.EventUserDeleted, User: "bob"})

			_, err := e.st.GetUser(e.ctx, "bob")
			wantNotFound(e.t, err, "user", "bob")
			_, err = e.st.UserByKeyFingerprint(e.ctx, key("bob").Fingerprint)
			wantNotFound(e.t, err, "key", key("bob").Fingerprint)
			_, err = e.st.TokenByHash(e.ctx, "hash-bob")
			if !isNotFound(err) {
				e.t.Fatalf("token of deleted user: %v", err)
			}
			g, err := e.st.GetGroup(e.ctx, "devs")
			e.must(err)
			wantEqual(e.t, "members", g.Members, []string{"carol"})
			wantEqual(e.t, "grants", summary(e.grants(ws)), "user:carol=use group:devs=use")

			// Nothing of the old bob comes back with a new bob.
			e.user("bob")
			u := e.getUser("bob")
			if len(u.Groups) != 0 || len(u.Keys) != 0 {
				e.t.Fatalf("new bob inherited %+v", u)
			}
			wantEqual(e.t, "shared with new bob", len(e.sharedWithUser("bob")), 0)
			ts, err := e.st.ListTokens(e.ctx, "bob")
			e.must(err)
			wantEqual(e.t, "tokens of new bob", len(ts), 0)
			// The key and token hash are free again.
			e.must(e.st.AddUserKey(e.ctx, "carol", key("bob")))
			e.must(e.st.CreateToken(e.ctx, acl.Token{ID: "t1", User: "carol", Hash: "hash-bob"}))
		}},
		{"users/delete_refused_while_owner", func(e *env) {
			e.user("alice")
			ws := e.workspace("alice", "ws")
			w := e.watch()
			wantConflict(e.t, e.st.DeleteUser(e.ctx, "alice"), "user")
			e.getUser("alice")
			w.quiet()
			uid := e.uid(ws)
			e.must(e.st.DeleteWorkspace(e.ctx, ws))
			w.expect(acl.Event{Kind: acl.EventWorkspaceDeleted, Workspace: ws, WorkspaceUID: uid})
			e.must(e.st.DeleteUser(e.ctx, "alice"))
			w.expect(acl.Event{Kind: acl.EventUserDeleted, User: "alice"})
		}},
		{"keys/add_lookup_remove", func(e *env) {
			e.user("bob")
			e.group("devs", "bob")
			k := key("1")
			e.must(e.st.AddUserKey(e.ctx, "bob", k))
			u, err := e.st.UserByKeyFingerprint(e.ctx, k.Fingerprint)
			e.must(err)
			k.AddedAt = e.clock.Now()
			wantEqual(e.t, "user by key", u, acl.User{Name: "bob", Keys: []acl.PublicKey{k}, Groups: []string{"devs"}, CreatedAt: e.clock.Now()})

			w := e.watch()
			e.must(e.st.RemoveUserKey(e.ctx, "bob", k.Fingerprint))
			w.expect(acl.Event{Kind: acl.EventKeyRemoved, User: "bob", Fingerprint: k.Fingerprint})
			_, err = e.st.UserByKeyFingerprint(e.ctx, k.Fingerprint)
			wantNotFound(e.t, err, "key", k.Fingerprint)
			wantEqual(e.t, "keys left", len(e.getUser("bob").Keys), 0)
			wantNotFound(e.t, e.st.RemoveUserKey(e.ctx, "bob", k.Fingerprint), "key", k.Fingerprint)
			w.quiet()
		}},
		{"keys/duplicate_fingerprint_is_conflict", func(e *env) {
			e.users("bob", "carol")
			e.must(e.st.AddUserKey(e.ctx, "bob", key("1")))
			wantConflict(e.t, e.st.AddUserKey(e.ctx, "carol", key("1")), "key")
			wantConflict(e.t, e.st.AddUserKey(e.ctx, "bob", key("1")), "key")
			wantConflict(e.t, e.st.CreateUser(e.ctx, acl.User{Name: "dave", Keys: []acl.PublicKey{key("2"), key("1")}}), "key")
			wantConflict(e.t, e.st.CreateUser(e.ctx, acl.User{Name: "dave", Keys: []acl.PublicKey{key("3"), key("3")}}), "key")
			_, err := e.st.GetUser(e.ctx, "dave")
			wantNotFound(e.t, err, "user", "dave")
			// dave's failed create did not claim key 2.
			e.must(e.st.AddUserKey(e.ctx, "carol", key("2")))
			u, err := e.st.UserByKeyFingerprint(e.ctx, key("1").Fingerprint)
			e.must(err)
			wantEqual(e.t, "owner of key 1", u.Name, "bob")
			wantEqual(e.t, "carol's keys", len(e.getUser("carol").Keys), 1)
		}},
		{"keys/invalid", func(e *env) {
			e.user("bob")
			wantInvalid(e.t, e.st.AddUserKey(e.ctx, "bob", acl.PublicKey{AuthorizedKey: "ssh-ed25519 AAAA"}), "fingerprint")
			wantInvalid(e.t, e.st.AddUserKey(e.ctx, "bob", acl.PublicKey{Fingerprint: "SHA256:x"}), "authorized_key")
			wantEqual(e.t, "keys", len(e.getUser("bob").Keys), 0)
		}},
	}
}
