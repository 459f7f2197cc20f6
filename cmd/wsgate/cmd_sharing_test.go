package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// sharingEnv is the seed's world: alice owns alice-ws; bob, carol, dave;
// group contractor with carol.
func sharingEnv(t *testing.T) (*cliEnv, acl.WorkspaceID) {
	c := newCLIEnv(t)
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		c.user(u, false)
	}
	c.must(c.store.CreateGroup(t.Context(), acl.Group{Name: "contractor"}))
	c.must(c.store.AddGroupMember(t.Context(), "contractor", "carol"))
	return c, c.workspace("alice", "alice-ws")
}

func TestSharingShareShowRemove(t *testing.T) {
	c, id := sharingEnv(t)
	out := c.ok("alice", "sharing", "share", "alice-ws", "--user", "bob:admin,dave", "--group", "contractor")
	want := norm(`USER   GROUP       ROLE
bob    -           admin
dave   -           use
carol  contractor  use`)
	if got := norm(out); got != want {
		t.Errorf("share output:\n%s\nwant:\n%s", got, want)
	}
	if got := c.grantsOf(id); got != "user:bob:admin user:dave:use group:contractor:use" {
		t.Errorf("grants %q", got)
	}
	// show, by name and by owner/name, and as an admin grantee.
	for _, args := range [][]string{{"alice", "alice-ws"}, {"alice", "alice/alice-ws"}, {"bob", "alice-ws"}} {
		if got := norm(c.ok(args[0], "sharing", "show", args[1])); got != want {
			t.Errorf("show %s as %s:\n%s", args[1], args[0], got)
		}
	}
	// A use grantee sees the grants, not the group's members.
	wantUse := norm(`USER  GROUP       ROLE
bob   -           admin
dave  -           use
-     contractor  use`)
	if got := norm(c.ok("dave", "sharing", "show", "alice/alice-ws")); got != wantUse {
		t.Errorf("show as dave:\n%s\nwant:\n%s", got, wantUse)
	}
	// JSON is the API's ACL.
	var acl apitypes.ACL
	if err := json.Unmarshal([]byte(c.ok("alice", "sharing", "show", "alice-ws", "-o", "json")), &acl); err != nil {
		t.Fatal(err)
	}
	if len(acl.Users) != 2 || len(acl.Groups) != 1 || acl.Groups[0].Members[0] != "carol" {
		t.Errorf("json %+v", acl)
	}
	// Flags repeat.
	c.ok("alice", "sharing", "remove", "alice-ws", "--user", "bob", "--user", "dave", "--group", "contractor")
	if got := c.grantsOf(id); got != "" {
		t.Errorf("grants after remove %q", got)
	}
	if got := norm(c.ok("alice", "sharing", "show", "alice-ws")); got != "USER  GROUP  ROLE" {
		t.Errorf("empty show %q", got)
	}
}

func TestSharingRejectsMalformedSpecsAndChangesNothing(t *testing.T) {
	c, id := sharingEnv(t)
	c.grant(id, acl.SubjectUser, "dave", acl.RoleUse)
	before := c.grantsOf(id)
	cases := []struct {
		want string
		args []string
	}{
		{`invalid role "owner" for user "bob"`, []string{"--user", "dave,bob:owner"}},
		{`the name before the colon is empty`, []string{"--user", ":use"}},
		{`user "ghost" not found`, []string{"--user", "bob,ghost"}},
		{`group "nogroup" not found`, []string{"--user", "bob", "--group", "nogroup"}},
		{`user "alice" owns workspace alice/alice-ws`, []string{"--user", "bob,alice:admin"}},
		{`user "bob" is named more than once`, []string{"--user", "bob", "--user", "bob:admin"}},
		{`nothing to share`, nil},
	}
	for _, tc := range cases {
		c.fails("alice", tc.want, append([]string{"sharing", "share", "alice-ws"}, tc.args...)...)
	}
	c.fails("alice", `invalid user "dave:use": a role is not expected here`, "sharing", "remove", "alice-ws", "--user", "dave:use")
	c.fails("alice", `user "ghost" not found`, "sharing", "remove", "alice-ws", "--user", "dave,ghost")
	// A use grantee may not share; a stranger sees nothing.
	c.fails("dave", "you may not share workspace alice/alice-ws", "sharing", "share", "alice/alice-ws", "--user", "bob")
	c.fails("bob", `workspace "alice/alice-ws" not found`, "sharing", "share", "alice/alice-ws", "--user", "bob")
	if after := c.grantsOf(id); after != before {
		t.Errorf("grants changed by rejected commands: %q → %q", before, after)
	}
}

func TestSharingExpiryColumn(t *testing.T) {
	c, _ := sharingEnv(t)
	out := c.ok("alice", "sharing", "share", "alice-ws", "--user", "bob", "--for", "2h")
	lines := strings.Split(norm(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "USER  GROUP  ROLE  EXPIRES") || !strings.Contains(lines[1], "bob") || strings.HasSuffix(lines[1], "-") {
		t.Errorf("share --for output:\n%s", out)
	}
}

func TestWorkspaceNameResolution(t *testing.T) {
	c, _ := sharingEnv(t)
	bp := c.workspace("bob", "proj")
	cp := c.workspace("carol", "proj")
	c.grant(bp, acl.SubjectUser, "dave", acl.RoleUse)
	c.grant(cp, acl.SubjectUser, "dave", acl.RoleUse)
	c.fails("dave", "bob/proj, carol/proj", "sharing", "show", "proj")
	c.ok("dave", "sharing", "show", "bob/proj")
	// The caller's own workspace wins over shared ones.
	c.workspace("dave", "proj")
	out := c.ok("dave", "workspaces", "show", "proj")
	if !strings.Contains(out, "dave/proj") {
		t.Errorf("own workspace not preferred:\n%s", out)
	}
	c.fails("alice", `workspace "nope" not found`, "sharing", "show", "nope")
}
