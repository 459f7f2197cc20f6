package main

import (
	"encoding/json"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func TestList(t *testing.T) {
	c, id := sharingEnv(t)
	c.workspace("alice", "spare")
	c.must(c.store.SetWorkspaceState(t.Context(), id, acl.StateRunning))
	c.grant(id, acl.SubjectUser, "bob", acl.RoleAdmin)
	c.grant(id, acl.SubjectGroup, "contractor", acl.RoleUse)
	bws := c.workspace("bob", "bob-ws")
	c.grant(bws, acl.SubjectUser, "alice", acl.RoleUse)

	cases := []struct {
		user string
		args []string
		want string
	}{
		{"alice", nil, `WORKSPACE       STATUS   ROLE   SHARED WITH
alice/alice-ws  running  owner  bob:admin, contractor(group):use
alice/spare     stopped  owner  -`},
		{"bob", []string{"--shared"}, `WORKSPACE       STATUS   ROLE   SHARED WITH
alice/alice-ws  running  admin  bob:admin, contractor(group):use`},
		{"carol", []string{"--shared"}, `WORKSPACE       STATUS   ROLE  SHARED WITH
alice/alice-ws  running  use   bob:admin, contractor(group):use`},
		{"alice", []string{"--search", "shared_with_user:bob"}, `WORKSPACE       STATUS   ROLE   SHARED WITH
alice/alice-ws  running  owner  bob:admin, contractor(group):use`},
		{"alice", []string{"--search", "shared_with_user:carol"}, `WORKSPACE       STATUS   ROLE   SHARED WITH
alice/alice-ws  running  owner  bob:admin, contractor(group):use`},
		{"alice", []string{"--search", "shared_with_group:contractor"}, `WORKSPACE       STATUS   ROLE   SHARED WITH
alice/alice-ws  running  owner  bob:admin, contractor(group):use`},
		{"alice", []string{"--shared"}, `WORKSPACE   STATUS   ROLE  SHARED WITH
bob/bob-ws  stopped  use   alice:use`},
		{"dave", nil, `WORKSPACE  STATUS  ROLE  SHARED WITH`},
	}
	for _, tc := range cases {
		if got := norm(c.ok(tc.user, append([]string{"list"}, tc.args...)...)); got != norm(tc.want) {
			t.Errorf("%s: list %v:\n%s\nwant:\n%s", tc.user, tc.args, got, tc.want)
		}
	}
	var ws []apitypes.Workspace
	if err := json.Unmarshal([]byte(c.ok("bob", "list", "--shared", "-o", "json")), &ws); err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Owner != "alice" || ws[0].Role != "admin" || ws[0].State != acl.StateRunning {
		t.Errorf("json %+v", ws)
	}
	c.fails("alice", `unknown search term "colour:red"`, "list", "--search", "colour:red")
	c.fails("alice", `invalid output format "yaml"`, "list", "-o", "yaml")
}
