package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// pickerEnv: alice (org acme) owns acme-ws in acme; adam holds admin on it,
// ursula use. bob and bo-sus (suspended) are in acme, bonnie in org other,
// boss in no org. Groups bo-team (acme), bo-all (no org), bo-other
// (other). bx01..bx12 are in acme.
func pickerEnv(t *testing.T) (*env, acl.WorkspaceID) {
	e := newEnv(t)
	for _, o := range []string{"acme", "other"} {
		e.must(e.store.CreateOrg(e.ctx(), acl.Org{Name: o, CreatedAt: e.clock.Now()}))
	}
	for _, u := range []string{"alice", "adam", "ursula", "bob", "bo-sus"} {
		e.user(u, inOrg("acme"))
	}
	for i := 1; i <= 12; i++ {
		e.user(fmt.Sprintf("bx%02d", i), inOrg("acme"))
	}
	e.user("bonnie", inOrg("other"))
	e.user("boss")
	e.user("nobody-here", inOrg("acme"))
	e.user("root", siteAdmin)
	e.must(e.store.SetUserSuspended(e.ctx(), "bo-sus", true))
	for name, org := range map[string]string{"bo-team": "acme", "bo-all": "", "bo-other": "other"} {
		e.must(e.store.CreateGroup(e.ctx(), acl.Group{Name: name, Org: org, CreatedAt: e.clock.Now()}))
	}
	id := e.workspace("alice", "acme-ws", "acme")
	e.grant(id, acl.SubjectUser, "adam", acl.RoleAdmin)
	e.grant(id, acl.SubjectUser, "ursula", acl.RoleUse)
	return e, id
}

func candidatesPath(prefix string) string {
	return "/api/v1/workspaces/alice/acme-ws" + apitypes.ShareCandidatesPath + "?prefix=" + url.QueryEscape(prefix)
}

func candidates(t *testing.T, e *env, user, prefix string) (users, groups []string, truncated bool) {
	t.Helper()
	var got apitypes.ShareCandidates
	e.expect(http.StatusOK, user, "GET", candidatesPath(prefix), nil).json(t, &got)
	for _, c := range got.Users {
		users = append(users, c.Name)
	}
	for _, c := range got.Groups {
		groups = append(groups, c.Name)
	}
	return users, groups, got.Truncated
}

func TestShareCandidates(t *testing.T) {
	e, _ := pickerEnv(t)
	for _, caller := range []string{"alice", "adam"} {
		users, groups, trunc := candidates(t, e, caller, "bo")
		if !slices.Equal(users, []string{"bob"}) || !slices.Equal(groups, []string{"bo-all", "bo-team"}) || trunc {
			t.Errorf("%s searching bo: users %q groups %q truncated %v; want bob, bo-all and bo-team", caller, users, groups, trunc)
		}
	}
	// The owner and the caller are not offered.
	if users, _, _ := candidates(t, e, "adam", "al"); len(users) != 0 {
		t.Errorf("adam searching al: %q, want no owner", users)
	}
	if users, _, _ := candidates(t, e, "adam", "ad"); len(users) != 0 {
		t.Errorf("adam searching ad: %q, want not himself", users)
	}
	// Bounded: 12 match, 10 are answered.
	users, _, trunc := candidates(t, e, "alice", "bx")
	if len(users) != apitypes.ShareCandidatesLimit || !trunc || users[0] != "bx01" {
		t.Errorf("searching bx: %q truncated %v, want the first %d and truncated", users, trunc, apitypes.ShareCandidatesLimit)
	}
	// A site admin searches everyone (but the suspended).
	users, groups, _ := candidates(t, e, "root", "bo")
	if !slices.Equal(users, []string{"bob", "bonnie", "boss"}) || !slices.Equal(groups, []string{"bo-all", "bo-other", "bo-team"}) {
		t.Errorf("root searching bo: users %q groups %q", users, groups)
	}

	// Who may not search: a use grantee (403), a stranger (404, the
	// workspace is not theirs to see).
	e.expect(http.StatusForbidden, "ursula", "GET", candidatesPath("bo"), nil)
	e.expect(http.StatusNotFound, "bonnie", "GET", candidatesPath("bo"), nil)
	// Too short, or not a name's alphabet.
	for _, p := range []string{"", "b", "BO", "b%", "-b", "b--", "bo bo"} {
		e.expect(http.StatusBadRequest, "alice", "GET", candidatesPath(p), nil)
	}
	// Sharing disabled for the org: nothing to pick for.
	e.must(e.store.SetOrgSharingDisabled(e.ctx(), "acme", true))
	e.expect(http.StatusForbidden, "alice", "GET", candidatesPath("bo"), nil)
}

// TestShareCandidatesNeverLeak searches with the first two letters of
// every user and group there is, as every caller who may search: the
// answers hold only users of the workspace's org (active, not the owner,
// not the caller) and groups of that org or none.
func TestShareCandidatesNeverLeak(t *testing.T) {
	e, _ := pickerEnv(t)
	allUsers, err := e.store.ListUsers(e.ctx())
	e.must(err)
	allGroups, err := e.store.ListGroups(e.ctx())
	e.must(err)
	mayUser := map[string]bool{}
	prefixes := map[string]bool{}
	for _, u := range allUsers {
		prefixes[u.Name[:2]] = true
		if u.Org == "acme" && !u.Suspended && u.Name != "alice" {
			mayUser[u.Name] = true
		}
	}
	mayGroup := map[string]bool{}
	for _, g := range allGroups {
		prefixes[g.Name[:2]] = true
		if g.Org == "" || g.Org == "acme" {
			mayGroup[g.Name] = true
		}
	}
	seen := map[string]bool{}
	for _, caller := range []string{"alice", "adam"} {
		for p := range prefixes {
			users, groups, _ := candidates(t, e, caller, p)
			for _, u := range users {
				if !mayUser[u] || u == caller {
					t.Errorf("%s searching %q got user %q", caller, p, u)
				}
				seen["user:"+u] = true
			}
			for _, g := range groups {
				if !mayGroup[g] {
					t.Errorf("%s searching %q got group %q", caller, p, g)
				}
				seen["group:"+g] = true
			}
		}
	}
	// And the search finds what it may (so an empty answer cannot pass).
	for _, want := range []string{"user:bob", "user:nobody-here", "user:ursula", "group:bo-all", "group:bo-team"} {
		if !seen[want] {
			t.Errorf("no search found %s", want)
		}
	}
}

// TestAllowedActions: each role's allowed_actions are exactly what the
// role table allows, on GET of one workspace and in the list.
func TestAllowedActions(t *testing.T) {
	e, _ := pickerEnv(t)
	want := map[string][]string{
		"alice":  {"connect", "start", "stop", "view", "update-required", "update", "rename", "share-use", "share-admin", "delete", "manage-agent", "transfer"},
		"adam":   {"connect", "start", "stop", "view", "update-required", "update", "rename", "share-use"},
		"ursula": {"connect", "start", "stop", "view", "update-required"},
	}
	var ws apitypes.Workspace
	for user, actions := range want {
		e.expect(http.StatusOK, user, "GET", "/api/v1/workspaces/alice/acme-ws", nil).json(t, &ws)
		if !slices.Equal(ws.AllowedActions, actions) {
			t.Errorf("%s: allowed_actions %q, want %q", user, ws.AllowedActions, actions)
		}
		var list []apitypes.Workspace
		e.expect(http.StatusOK, user, "GET", "/api/v1/workspaces", nil).json(t, &list)
		if len(list) != 1 || !slices.Equal(list[0].AllowedActions, actions) {
			t.Errorf("%s: list %+v, want allowed_actions %q", user, list, actions)
		}
	}
	// A site admin may transfer (the owner role), not a grantee.
	e.expect(http.StatusOK, "root", "GET", "/api/v1/workspaces/alice/acme-ws", nil).json(t, &ws)
	if !slices.Contains(ws.AllowedActions, "transfer") {
		t.Errorf("site admin: allowed_actions %q lack transfer", ws.AllowedActions)
	}
	// A rename answers the renamed workspace's actions.
	e.expect(http.StatusOK, "adam", "PATCH", "/api/v1/workspaces/alice/acme-ws", apitypes.UpdateWorkspaceRequest{Name: "renamed"}).json(t, &ws)
	if ws.Name != "renamed" || !slices.Equal(ws.AllowedActions, want["adam"]) {
		t.Errorf("after rename: %s %q", ws.Name, ws.AllowedActions)
	}
	// Sharing off for the org: a grantee's grant gives nothing, the owner keeps all.
	e.must(e.store.SetOrgSharingDisabled(e.ctx(), "acme", true))
	e.expect(http.StatusNotFound, "adam", "GET", "/api/v1/workspaces/alice/renamed", nil)
	e.expect(http.StatusOK, "alice", "GET", "/api/v1/workspaces/alice/renamed", nil).json(t, &ws)
	if !slices.Equal(ws.AllowedActions, want["alice"]) || ws.SharingInactive == "" {
		t.Errorf("owner with sharing off: %q inactive %q", ws.AllowedActions, ws.SharingInactive)
	}
}
