package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// TestGroupMembersVisibility: who is in a group is shown to site admins
// and to owners and admins of a workspace the group is granted on; a use
// grantee, or anyone else, sees the group without its members.
func TestGroupMembersVisibility(t *testing.T) {
	e := shareEnv(t) // alice owns alice/ws, adam is its admin
	e.grant(wsID, acl.SubjectGroup, "contractor", acl.RoleUse)
	e.grant(wsID, acl.SubjectUser, "bob", acl.RoleUse)
	members := func(user string) (string, string) {
		t.Helper()
		var g apitypes.Group
		e.expect(http.StatusOK, user, "GET", "/api/v1/groups/contractor", nil).json(t, &g)
		var gs []apitypes.Group
		e.expect(http.StatusOK, user, "GET", "/api/v1/groups", nil).json(t, &gs)
		listed := "absent"
		for _, x := range gs {
			if x.Name == "contractor" {
				listed = strings.Join(x.Members, ",")
			}
		}
		return strings.Join(g.Members, ","), listed
	}
	for user, want := range map[string]string{
		"root": "carol,dave", "alice": "carol,dave", "adam": "carol,dave",
		"bob": "", "sus2": "",
	} {
		if user == "sus2" {
			e.user("sus2")
		}
		got, listed := members(user)
		if got != want || listed != want {
			t.Errorf("%s sees members %q (list: %q), want %q", user, got, listed, want)
		}
	}
	// An admin whose grant gives nothing (sharing disabled) is no admin.
	e.expect(http.StatusOK, "root", "PATCH", "/api/v1/settings", apitypes.SharingSetting{Sharing: "disabled"})
	if got, _ := members("adam"); got != "" {
		t.Errorf("adam sees members %q while sharing is disabled", got)
	}
	if got, _ := members("alice"); got != "carol,dave" {
		t.Errorf("the owner sees members %q while sharing is disabled", got)
	}
}
