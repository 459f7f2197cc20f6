package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// listEnv: alice owns a1 (shared with bob:use, group contractor:use) and a2
// (unshared); bob owns b1 (shared with alice:admin); carol is in contractor;
// dave owns d1 in org acme (shared with alice) and acme later disables
// sharing.
func listEnv(t *testing.T) *env {
	e := newEnv(t)
	e.must(e.store.CreateOrg(e.ctx(), acl.Org{Name: "acme"}))
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		e.user(u)
	}
	e.user("root", siteAdmin)
	e.group("contractor", "carol")
	a1 := e.workspace("alice", "a1", "")
	e.workspace("alice", "a2", "")
	b1 := e.workspace("bob", "b1", "")
	d1 := e.workspace("dave", "d1", "acme")
	e.grant(a1, acl.SubjectUser, "bob", acl.RoleUse)
	e.grant(a1, acl.SubjectGroup, "contractor", acl.RoleUse)
	e.grant(b1, acl.SubjectUser, "alice", acl.RoleAdmin)
	e.grant(d1, acl.SubjectUser, "alice", acl.RoleUse)
	return e
}

func (e *env) list(user, q string) []apitypes.Workspace {
	e.t.Helper()
	r := e.expect(http.StatusOK, user, "GET", "/api/v1/workspaces?q="+url.QueryEscape(q), nil)
	var ws []apitypes.Workspace
	r.json(e.t, &ws)
	return ws
}

func names(ws []apitypes.Workspace) string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Owner+"/"+w.Name+":"+w.Role)
	}
	return strings.Join(out, " ")
}

func TestListSearch(t *testing.T) {
	e := listEnv(t)
	cases := []struct {
		user, q, want string
	}{
		{"alice", "", "alice/a1:owner alice/a2:owner bob/b1:admin dave/d1:use"},
		{"alice", "owner:me", "alice/a1:owner alice/a2:owner"},
		{"alice", "owner:bob", "bob/b1:admin"},
		{"alice", "shared_with_user:me", "bob/b1:admin dave/d1:use"},
		{"alice", "shared:true", "alice/a1:owner bob/b1:admin dave/d1:use"},
		{"alice", "shared:false", "alice/a2:owner"},
		{"alice", "owner:me shared:true", "alice/a1:owner"},
		{"alice", "shared_with_user:bob", "alice/a1:owner"},
		{"alice", "shared_with_user:carol", "alice/a1:owner"}, // through contractor
		{"alice", "shared_with_group:contractor", "alice/a1:owner"},
		{"alice", "name:a", "alice/a1:owner alice/a2:owner"},
		{"alice", "a2", "alice/a2:owner"},
		{"alice", "shared_with_user:ghost", ""},
		{"bob", "", "alice/a1:use bob/b1:owner"},
		{"bob", "shared_with_user:me", "alice/a1:use"},
		{"carol", "", "alice/a1:use"},
		{"carol", "owner:bob", ""},
		// Listing never shows what the caller cannot see.
		{"carol", "shared_with_user:alice", ""},
		{"root", "", "alice/a1:owner alice/a2:owner bob/b1:owner dave/d1:owner"},
		{"root", "shared_with_group:contractor", "alice/a1:owner"},
	}
	for _, tc := range cases {
		if got := names(e.list(tc.user, tc.q)); got != tc.want {
			t.Errorf("%s q=%q: got %q, want %q", tc.user, tc.q, got, tc.want)
		}
	}

	// Each result says who it is shared with.
	ws := e.list("bob", "owner:alice")
	if len(ws) != 1 || len(ws[0].SharedWith.Users) != 1 || ws[0].SharedWith.Users[0] != (apitypes.Share{Name: "bob", Role: "use"}) ||
		len(ws[0].SharedWith.Groups) != 1 || ws[0].SharedWith.Groups[0].Name != "contractor" {
		t.Errorf("shared_with of alice/a1: %+v", ws)
	}

	// Sharing off for acme hides d1 from alice; the owner still sees it.
	e.must(e.store.SetOrgSharingDisabled(e.ctx(), "acme", true))
	if got := names(e.list("alice", "shared_with_user:me")); got != "bob/b1:admin" {
		t.Errorf("after acme disabled sharing: %q", got)
	}
	if got := names(e.list("dave", "")); got != "dave/d1:owner" {
		t.Errorf("dave: %q", got)
	}
}

func TestListBadQuery(t *testing.T) {
	e := listEnv(t)
	for q, want := range map[string]string{
		"colour:red": `unknown search term "colour:red"`,
		"shared:yes": `expected shared:true or shared:false`,
		"owner:":     `has no value`,
	} {
		r := e.expect(http.StatusBadRequest, "alice", "GET", "/api/v1/workspaces?q="+url.QueryEscape(q), nil)
		apiErr := r.apiError(t)
		if !strings.Contains(apiErr.Message, want) || len(apiErr.Validations) != 1 || apiErr.Validations[0].Field != "q" {
			t.Errorf("q=%q: %+v", q, apiErr)
		}
	}
}
