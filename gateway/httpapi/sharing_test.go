package httpapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// shareEnv: alice owns alice/ws; adam holds admin, bob and carol are free;
// sus is suspended; group contractor has carol and dave.
func shareEnv(t *testing.T) *env {
	e := newEnv(t)
	for _, u := range []string{"alice", "adam", "bob", "carol", "dave", "sus"} {
		e.user(u)
	}
	e.user("root", siteAdmin)
	e.must(e.store.SetUserSuspended(e.ctx(), "sus", true))
	e.group("contractor", "carol", "dave")
	e.group("empty")
	e.workspace("alice", "ws", "")
	e.grant(wsID, acl.SubjectUser, "adam", acl.RoleAdmin)
	return e
}

const aclPath = "/api/v1/workspaces/alice/ws/acl"

func patch(users, groups map[string]string) apitypes.ACLUpdate {
	return apitypes.ACLUpdate{Users: users, Groups: groups}
}

func TestACLGetAndPatch(t *testing.T) {
	e := shareEnv(t)
	r := e.expect(http.StatusOK, "alice", "PATCH", aclPath, patch(
		map[string]string{"bob": "use", "carol": "admin"},
		map[string]string{"contractor": "use"}))
	var got apitypes.ACL
	r.json(t, &got)
	want := apitypes.ACL{
		Users:  []apitypes.ACLUser{{Name: "adam", Role: "admin"}, {Name: "bob", Role: "use"}, {Name: "carol", Role: "admin"}},
		Groups: []apitypes.ACLGroup{{Name: "contractor", Role: "use", Members: []string{"carol", "dave"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PATCH answer %+v\nwant %+v", got, want)
	}
	// GET shows the same to an admin grantee; the raw JSON has the documented shape.
	r = e.expect(http.StatusOK, "adam", "GET", aclPath, nil)
	wantJSON := `{"users":[{"name":"adam","role":"admin"},{"name":"bob","role":"use"},{"name":"carol","role":"admin"}],"groups":[{"name":"contractor","role":"use","members":["carol","dave"]}]}`
	if strings.TrimSpace(string(r.body)) != wantJSON {
		t.Errorf("GET body\n%s\nwant\n%s", r.body, wantJSON)
	}
	// A use grantee sees the grants, not who is in the group.
	r = e.expect(http.StatusOK, "bob", "GET", aclPath, nil)
	wantJSON = `{"users":[{"name":"adam","role":"admin"},{"name":"bob","role":"use"},{"name":"carol","role":"admin"}],"groups":[{"name":"contractor","role":"use","members":[]}]}`
	if strings.TrimSpace(string(r.body)) != wantJSON {
		t.Errorf("GET body as a use grantee\n%s\nwant\n%s", r.body, wantJSON)
	}
	// A merge: "" removes, others stay.
	r = e.expect(http.StatusOK, "alice", "PATCH", aclPath, patch(map[string]string{"carol": ""}, nil))
	r.json(t, &got)
	if len(got.Users) != 2 || got.Users[1].Name != "bob" || len(got.Groups) != 1 {
		t.Errorf("after removing carol: %+v", got)
	}
	// DELETE clears everything.
	e.expect(http.StatusNoContent, "alice", "DELETE", aclPath, nil)
	if gs := e.grants(wsID); len(gs) != 0 {
		t.Errorf("grants after DELETE: %+v", gs)
	}
	r = e.expect(http.StatusOK, "alice", "GET", aclPath, nil)
	if strings.TrimSpace(string(r.body)) != `{"users":[],"groups":[]}` {
		t.Errorf("empty ACL body %s", r.body)
	}
}

// TestRejectedPatchChangesNothing sends batches with one bad entry among
// good ones: the answer names the bad item and no grant changes.
func TestRejectedPatchChangesNothing(t *testing.T) {
	cases := []struct {
		name   string
		caller string
		body   any
		status int
		msgs   []string
		fields []string
	}{
		{"unknown user", "alice", patch(map[string]string{"bob": "use", "ghost": "use"}, nil), 400,
			[]string{`user "ghost" not found`}, []string{"users.ghost"}},
		{"unknown group", "alice", patch(map[string]string{"bob": "use"}, map[string]string{"nogroup": "use"}), 400,
			[]string{`group "nogroup" not found`}, []string{"groups.nogroup"}},
		{"suspended user", "alice", patch(map[string]string{"bob": "use", "sus": "use"}, nil), 400,
			[]string{`user "sus" is suspended`}, []string{"users.sus"}},
		{"owner role", "alice", patch(map[string]string{"bob": "owner"}, nil), 400,
			[]string{`invalid role "owner" for user "bob"`}, []string{"users.bob"}},
		{"owner named", "alice", patch(map[string]string{"bob": "use", "alice": "admin"}, nil), 400,
			[]string{`user "alice" owns workspace alice/ws`}, []string{"users.alice"}},
		{"bad name", "alice", patch(map[string]string{"bob": "use", "Bad": "use"}, nil), 400,
			[]string{`invalid user "Bad"`}, []string{"users.Bad"}},
		{"every bad item named", "alice", patch(map[string]string{"ghost": "use", "sus": "admin"}, map[string]string{"nogroup": "use"}), 400,
			[]string{`user "ghost" not found`, `user "sus" is suspended`, `group "nogroup" not found`},
			[]string{"users.ghost", "users.sus", "groups.nogroup"}},
		{"past expiry", "alice", apitypes.ACLUpdate{Users: map[string]string{"bob": "use"}, ExpiresAt: "2000-01-01T00:00:00Z"}, 400,
			[]string{"expires_at must be in the future"}, []string{"expires_at"}},
		{"bad expiry", "alice", apitypes.ACLUpdate{Users: map[string]string{"bob": "use"}, ExpiresAt: "tomorrow"}, 400,
			[]string{"RFC 3339"}, []string{"expires_at"}},
		{"empty", "alice", patch(nil, nil), 400, []string{"nothing to change"}, nil},
		{"unknown field", "alice", `{"users":{"bob":"use"},"roles":{}}`, 400, []string{`unknown field "roles"`}, []string{"roles"}},
		{"admin grants admin", "adam", patch(map[string]string{"bob": "use", "carol": "admin"}, nil), 403,
			[]string{`only the workspace owner or a site admin may grant or remove the admin role (user "carol"`}, nil},
		{"admin removes own admin", "adam", patch(map[string]string{"adam": ""}, nil), 403,
			[]string{"only the workspace owner or a site admin"}, nil},
		{"admin grants group admin", "adam", patch(nil, map[string]string{"contractor": "admin"}), 403,
			[]string{`(group "contractor"`}, nil},
		{"use grantee shares", "bob", patch(map[string]string{"carol": "use"}, nil), 403,
			[]string{"you may not share workspace alice/ws"}, nil},
		{"stranger shares", "dave", patch(map[string]string{"carol": "use"}, nil), 404,
			[]string{`workspace "alice/ws" not found`}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := shareEnv(t)
			e.grant(wsID, acl.SubjectUser, "bob", acl.RoleUse)
			before := fingerprint(e)
			r := e.expect(tc.status, tc.caller, "PATCH", aclPath, tc.body)
			apiErr := r.apiError(t)
			for _, m := range tc.msgs {
				if !strings.Contains(apiErr.Message, m) {
					t.Errorf("message %q does not name %q", apiErr.Message, m)
				}
			}
			var fields []string
			for _, v := range apiErr.Validations {
				fields = append(fields, v.Field)
			}
			for _, f := range tc.fields {
				if !strings.Contains(strings.Join(fields, " "), f) {
					t.Errorf("validations %v lack %q", fields, f)
				}
			}
			if after := fingerprint(e); after != before {
				t.Errorf("rejected PATCH changed grants:\n%s\n%s", before, after)
			}
		})
	}
}

func TestAdminSharesUseOnly(t *testing.T) {
	e := shareEnv(t)
	// An admin adds and removes use grants, for users and groups.
	e.expect(http.StatusOK, "adam", "PATCH", aclPath, patch(map[string]string{"bob": "use"}, map[string]string{"contractor": "use"}))
	wantGrant(t, e, acl.SubjectUser, "bob", acl.RoleUse)
	e.expect(http.StatusOK, "adam", "PATCH", aclPath, patch(map[string]string{"bob": ""}, nil))
	wantGrant(t, e, acl.SubjectUser, "bob", acl.RoleNone)
	// Nor may an admin raise a use grant to admin or lower an admin grant.
	e.grant(wsID, acl.SubjectUser, "carol", acl.RoleAdmin)
	e.expect(http.StatusForbidden, "adam", "PATCH", aclPath, patch(map[string]string{"carol": "use"}, nil))
	wantGrant(t, e, acl.SubjectUser, "carol", acl.RoleAdmin)
	// DELETE would remove admin grants: refused for an admin, allowed for
	// the owner and a site admin.
	e.expect(http.StatusForbidden, "adam", "DELETE", aclPath, nil)
	if len(e.grants(wsID)) != 3 {
		t.Errorf("grants after refused DELETE: %+v", e.grants(wsID))
	}
	e.expect(http.StatusNoContent, "root", "DELETE", aclPath, nil)
	if gs := e.grants(wsID); len(gs) != 0 {
		t.Errorf("grants after site admin's DELETE: %+v", gs)
	}
	// A site admin grants admin.
	e.expect(http.StatusOK, "root", "PATCH", aclPath, patch(map[string]string{"bob": "admin"}, nil))
	wantGrant(t, e, acl.SubjectUser, "bob", acl.RoleAdmin)
	// Removing a suspended user's grant is allowed (it only narrows).
	e.expect(http.StatusOK, "alice", "PATCH", aclPath, patch(map[string]string{"sus": ""}, nil))
}

func TestSharingDisabledRefusesEveryShareCall(t *testing.T) {
	e := shareEnv(t)
	e.must(e.store.CreateOrg(e.ctx(), acl.Org{Name: "acme"}))
	e.user("olga", inOrg("acme"))
	e.workspace("olga", "ows", "acme")
	e.expect(http.StatusOK, "olga", "PATCH", "/api/v1/workspaces/olga/ows/acl", patch(map[string]string{"bob": "use"}, nil))
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/workspaces/olga/ows", nil)

	// An org admin switch through the API.
	e.expect(http.StatusForbidden, "olga", "PATCH", "/api/v1/orgs/acme/settings", apitypes.SharingSetting{Sharing: "disabled"})
	e.expect(http.StatusOK, "root", "PATCH", "/api/v1/orgs/acme/settings", apitypes.SharingSetting{Sharing: "disabled"})
	r := e.expect(http.StatusForbidden, "olga", "PATCH", "/api/v1/workspaces/olga/ows/acl", patch(map[string]string{"carol": "use"}, nil))
	if msg := r.apiError(t).Message; msg != `workspace sharing is disabled for organization "acme" (grants can still be removed)` {
		t.Errorf("PATCH message %q", msg)
	}
	// The grant remains but gives nothing, and says so.
	e.expect(http.StatusNotFound, "bob", "GET", "/api/v1/workspaces/olga/ows", nil)
	var inactive apitypes.ACL
	e.expect(http.StatusOK, "olga", "GET", "/api/v1/workspaces/olga/ows/acl", nil).json(t, &inactive)
	if len(inactive.Users) != 1 || inactive.Inactive != `workspace sharing is disabled for organization "acme"` {
		t.Errorf("ACL while sharing is disabled: %+v", inactive)
	}
	// Other orgs' workspaces are unaffected, and say nothing.
	var active apitypes.ACL
	e.expect(http.StatusOK, "alice", "GET", aclPath, nil).json(t, &active)
	if active.Inactive != "" {
		t.Errorf("ACL of another org's workspace: %+v", active)
	}
	e.expect(http.StatusOK, "alice", "PATCH", aclPath, patch(map[string]string{"bob": "use"}, nil))

	// The deployment switch.
	e.expect(http.StatusForbidden, "alice", "PATCH", "/api/v1/settings", apitypes.SharingSetting{Sharing: "disabled"})
	e.expect(http.StatusBadRequest, "root", "PATCH", "/api/v1/settings", apitypes.SharingSetting{Sharing: "off"})
	r = e.expect(http.StatusOK, "root", "PATCH", "/api/v1/settings", apitypes.SharingSetting{Sharing: "disabled"})
	var s apitypes.Settings
	r.json(t, &s)
	if s.Sharing != "disabled" || s.DisabledByServer {
		t.Errorf("settings %+v", s)
	}
	r = e.expect(http.StatusForbidden, "alice", "PATCH", aclPath, patch(map[string]string{"carol": "use"}, nil))
	if msg := r.apiError(t).Message; msg != "workspace sharing is disabled for this deployment (grants can still be removed)" {
		t.Errorf("message %q", msg)
	}
	e.expect(http.StatusNotFound, "bob", "GET", "/api/v1/workspaces/alice/ws", nil)
	e.expect(http.StatusOK, "root", "PATCH", "/api/v1/settings", apitypes.SharingSetting{Sharing: "enabled"})
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/workspaces/alice/ws", nil)
}

// TestGrantsRemovableWhileSharingDisabled: the owner can remove grants
// while sharing is off (one by one, or all), so that stale grants do not
// come back when it is turned on again; an admin grantee, whose grant
// gives nothing meanwhile, cannot.
func TestGrantsRemovableWhileSharingDisabled(t *testing.T) {
	e := shareEnv(t)
	e.grant(wsID, acl.SubjectUser, "bob", acl.RoleUse)
	e.grant(wsID, acl.SubjectGroup, "contractor", acl.RoleUse)
	e.expect(http.StatusOK, "root", "PATCH", "/api/v1/settings", apitypes.SharingSetting{Sharing: "disabled"})
	var got apitypes.ACL
	e.expect(http.StatusOK, "alice", "PATCH", aclPath, patch(map[string]string{"bob": ""}, nil)).json(t, &got)
	if got.Inactive != "workspace sharing is disabled for this deployment" || len(got.Users) != 1 || got.Users[0].Name != "adam" {
		t.Fatalf("after removing bob: %+v", got)
	}
	e.expect(http.StatusNotFound, "adam", "PATCH", aclPath, patch(map[string]string{"contractor": ""}, nil))
	e.expect(http.StatusNoContent, "alice", "DELETE", aclPath, nil)
	if gs := e.grants(wsID); len(gs) != 0 {
		t.Fatalf("grants after DELETE while sharing is disabled: %+v", gs)
	}
	e.expect(http.StatusOK, "root", "PATCH", "/api/v1/settings", apitypes.SharingSetting{Sharing: "enabled"})
	e.expect(http.StatusNotFound, "bob", "GET", "/api/v1/workspaces/alice/ws", nil)
}

func TestServerFlagOverridesSetting(t *testing.T) {
	e := newEnv(t, withDisableSharing())
	e.user("root", siteAdmin)
	r := e.expect(http.StatusOK, "root", "PATCH", "/api/v1/settings", apitypes.SharingSetting{Sharing: "enabled"})
	var s apitypes.Settings
	r.json(t, &s)
	if s.Sharing != "disabled" || !s.DisabledByServer {
		t.Errorf("settings %+v, want disabled by server", s)
	}
}

func TestShareExpiry(t *testing.T) {
	e := shareEnv(t)
	expires := e.clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
	r := e.expect(http.StatusOK, "alice", "PATCH", aclPath, apitypes.ACLUpdate{
		Users: map[string]string{"bob": "use", "adam": ""}, Groups: map[string]string{"contractor": "use"}, ExpiresAt: expires})
	var got apitypes.ACL
	r.json(t, &got)
	if len(got.Users) != 1 || got.Users[0].ExpiresAt.Format(time.RFC3339) != expires ||
		len(got.Groups) != 1 || got.Groups[0].ExpiresAt.Format(time.RFC3339) != expires {
		t.Fatalf("ACL %+v: want bob and contractor expiring at %s", got, expires)
	}
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/workspaces/alice/ws", nil)
	e.clock.Advance(2*time.Hour + time.Second)
	// Expired grants give nothing and are not listed, even before the
	// store has purged them.
	e.expect(http.StatusNotFound, "bob", "GET", "/api/v1/workspaces/alice/ws", nil)
	r = e.expect(http.StatusOK, "alice", "GET", aclPath, nil)
	r.json(t, &got)
	if len(got.Users)+len(got.Groups) != 0 {
		t.Errorf("expired grants listed: %+v", got)
	}
}
