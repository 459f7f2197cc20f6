package acltest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// dump reads everything the store holds through its public API.
type dump struct {
	Users      []acl.User
	Groups     []acl.Group
	Orgs       []acl.Org
	Settings   acl.Settings
	Workspaces []acl.Workspace
	Grants     map[string][]acl.Grant
	Tokens     map[string][]acl.Token
	Shared     map[string][]acl.SharedWorkspace
}

func (e *env) dump() dump {
	e.t.Helper()
	var d dump
	var err error
	d.Users, err = e.st.ListUsers(e.ctx)
	e.must(err)
	d.Groups, err = e.st.ListGroups(e.ctx)
	e.must(err)
	d.Orgs, err = e.st.ListOrgs(e.ctx)
	e.must(err)
	d.Settings, err = e.st.GetSettings(e.ctx)
	e.must(err)
	d.Workspaces, err = e.st.ListWorkspaces(e.ctx)
	e.must(err)
	d.Grants, d.Tokens, d.Shared = map[string][]acl.Grant{}, map[string][]acl.Token{}, map[string][]acl.SharedWorkspace{}
	for _, w := range d.Workspaces {
		d.Grants[w.ID().String()] = e.grants(w.ID())
	}
	for _, u := range d.Users {
		d.Tokens[u.Name], err = e.st.ListTokens(e.ctx, u.Name)
		e.must(err)
		d.Shared[u.Name] = e.sharedWithUser(u.Name)
	}
	return d
}

func durabilityCases() []testCase {
	return []testCase{
		{"durability/reopen_keeps_everything", func(e *env) {
			e.must(e.st.CreateOrg(e.ctx, acl.Org{Name: "acme", SharingDisabled: true}))
			e.must(e.st.CreateUser(e.ctx, acl.User{Name: "alice", DisplayName: "Alice", Org: "acme", SiteAdmin: true, Keys: []acl.PublicKey{key("a")}}))
			e.must(e.st.CreateUser(e.ctx, acl.User{Name: "bob", Keys: []acl.PublicKey{key("b1"), key("b2")}}))
			e.must(e.st.SetUserSuspended(e.ctx, "bob", true))
			e.user("carol")
			e.group("devs", "bob", "carol")
			e.must(e.st.CreateWorkspace(e.ctx, acl.Workspace{Owner: "alice", Name: "ws", Org: "acme", State: acl.StateRunning, AgentTokenHash: "agent-1"}))
			id := acl.WorkspaceID{Owner: "alice", Name: "ws"}
			e.apply(id, userGrant("carol", acl.RoleAdmin), acl.GrantChange{Kind: acl.SubjectGroup, Subject: "devs", Role: acl.RoleUse, ExpiresAt: e.clock.Now().Add(time.Hour)})
			e.must(e.st.CreateToken(e.ctx, acl.Token{ID: "t1", User: "alice", Name: "cli", Hash: "h1"}))
			e.must(e.st.SetSettings(e.ctx, acl.Settings{SharingDisabled: true}))
			before := e.dump()

			e.st = e.h.Reopen(e.t, e.st, e.clock.Now)
			wantEqual(e.t, "data after reopen", e.dump(), before)
			u, err := e.st.UserByKeyFingerprint(e.ctx, key("b2").Fingerprint)
			e.must(err)
			wantEqual(e.t, "user by key", u.Name, "bob")
			ws, err := e.st.WorkspaceByAgentTokenHash(e.ctx, "agent-1")
			e.must(err)
			wantEqual(e.t, "workspace by agent token", ws.ID(), id)
			ws, err = e.st.GetWorkspaceByUID(e.ctx, ws.UID)
			e.must(err)
			wantEqual(e.t, "workspace by uid", ws.ID(), id)
			tok, err := e.st.TokenByHash(e.ctx, "h1")
			e.must(err)
			wantEqual(e.t, "token by hash", tok.ID, "t1")
			// Indexes survived too: the expiry index and uniqueness.
			wantConflict(e.t, e.st.AddUserKey(e.ctx, "carol", key("a")), "key")
			e.clock.Advance(time.Hour)
			n, err := e.st.DeleteExpiredGrants(e.ctx, e.clock.Now())
			e.must(err)
			wantEqual(e.t, "expired after reopen", n, 1)
		}},
		{"concurrency/50_members", func(e *env) {
			e.group("devs")
			users := numbered("u", 50)
			e.users(users...)
			e.concurrently(len(users), func(i int) error { return e.st.AddGroupMember(e.ctx, "devs", users[i]) })
			g, err := e.st.GetGroup(e.ctx, "devs")
			e.must(err)
			wantEqual(e.t, "members", g.Members, users)
		}},
		{"concurrency/50_grants", func(e *env) {
			e.user("alice")
			id := e.workspace("alice", "ws")
			want := numbered("u", 50)
			e.users(want...)
			e.concurrently(len(want), func(i int) error {
				return e.st.ApplyGrants(e.ctx, id, []acl.GrantChange{userGrant(want[i], acl.RoleUse)})
			})
			wantEqual(e.t, "grantees", names(e.grants(id), func(g acl.Grant) string { return g.Subject }), want)
		}},
		{"concurrency/one_create_wins", func(e *env) {
			var mu sync.Mutex
			wins := 0
			e.concurrently(50, func(i int) error {
				err := e.st.CreateUser(e.ctx, acl.User{Name: "bob", DisplayName: fmt.Sprint(i)})
				if errors.Is(err, acl.ErrConflict) {
					return nil
				}
				mu.Lock()
				wins++
				mu.Unlock()
				return err
			})
			wantEqual(e.t, "successful creates", wins, 1)
		}},
	}
}

// numbered returns n names prefix00, prefix01, …, in name order.
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// concurrently runs fn(0..n-1) at once and fails on any error.
func (e *env) concurrently(n int, fn func(i int) error) {
	e.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := fn(i); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatalf("concurrent write: %v", err)
	}
}
