package main

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway/httpapi"
)

// TestSharingCoderNames: Coder's `sharing add` and `sharing status|list`
// are share and show.
func TestSharingCoderNames(t *testing.T) {
	c, id := sharingEnv(t)
	c.ok("alice", "sharing", "add", "alice-ws", "--user", "bob:admin")
	if got := c.grantsOf(id); got != "user:bob:admin" {
		t.Fatalf("grants after add %q", got)
	}
	want := norm(c.ok("alice", "sharing", "show", "alice-ws"))
	for _, name := range []string{"status", "list"} {
		if got := norm(c.ok("alice", "sharing", name, "alice-ws")); got != want || !strings.Contains(got, "bob") {
			t.Errorf("sharing %s:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

// TestUnknownSubcommandFails: an unknown subcommand of a command group
// exits 1 with suggestions instead of printing help and exiting 0.
func TestUnknownSubcommandFails(t *testing.T) {
	c := newCLIEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sharing", "stat"}, "Did you mean this?\n\tstatus"},
		{[]string{"workspaces", "transfr"}, "Did you mean this?\n\ttransfer"},
		{[]string{"users", "nope"}, `unknown command "nope" for "wsgate users"`},
		{[]string{"shareing"}, "Did you mean this?\n\tsharing"},
	} {
		r := c.run("", tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("wsgate %v: exit %d, stderr %q; want 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	// The group alone still shows its help.
	if r := c.run("", "sharing"); r.code != 0 || !strings.Contains(r.stdout, "Available Commands") {
		t.Errorf("wsgate sharing: exit %d, %q", r.code, r.stdout)
	}
}

func TestSharingRemoveWithoutGrant(t *testing.T) {
	c, id := sharingEnv(t)
	c.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	c.fails("alice", "alice/alice-ws has no grant for user dave; nothing was removed", "sharing", "remove", "alice-ws", "--user", "bob,dave")
	if got := c.grantsOf(id); got != "user:bob:use" {
		t.Fatalf("grants after refused remove %q", got)
	}
	c.fails("alice", "has no grant for group contractor", "sharing", "remove", "alice-ws", "--group", "contractor")
	c.ok("alice", "sharing", "remove", "alice-ws", "--user", "bob")
}

func TestListColumnsAndRoles(t *testing.T) {
	c := newCLIEnv(t)
	c.user("root", true)
	c.user("alice", false)
	c.user("bob", false)
	id := c.workspace("alice", "ws")
	c.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	c.must(c.store.SetWorkspaceUpdateRequired(t.Context(), id, true))
	got := norm(c.ok("bob", "list", "--shared", "-c", "workspace,role,update-required"))
	if want := norm("WORKSPACE  ROLE  UPDATE REQUIRED\nalice/ws   use   yes"); got != want {
		t.Errorf("list -c:\n%s\nwant:\n%s", got, want)
	}
	got = norm(c.ok("root", "list", "--all", "--column", "workspace", "--column", "role", "-c", "status"))
	if want := norm("WORKSPACE  ROLE        STATUS\nalice/ws   site-admin  stopped (update required)"); got != want {
		t.Errorf("site admin's list:\n%s\nwant:\n%s", got, want)
	}
	if got := c.ok("root", "workspaces", "show", "alice/ws"); !strings.Contains(got, "site-admin") {
		t.Errorf("site admin's show: %s", got)
	}
	c.fails("alice", `unknown column "colour"`, "list", "-c", "workspace,colour")
}

func TestTransferAndDeleteUserCLI(t *testing.T) {
	c := newCLIEnv(t)
	c.user("root", true)
	c.user("agentbot", false)
	c.user("bob", false)
	id := c.workspace("agentbot", "ai-ws")
	c.grant(id, acl.SubjectUser, "bob", acl.RoleAdmin)
	out := c.ok("agentbot", "workspaces", "transfer", "ai-ws", "--to", "bob", "--keep-access", "use")
	if !strings.Contains(out, "Transferred agentbot/ai-ws to bob: it is now bob/ai-ws; agentbot keeps the use role.") {
		t.Errorf("transfer output %q", out)
	}
	c.fails("agentbot", "only the owner of bob/ai-ws or a site admin may transfer it", "workspaces", "transfer", "bob/ai-ws", "--to", "agentbot")
	c.fails("bob", `user "nobody" not found`, "workspaces", "transfer", "ai-ws", "--to", "nobody")
	c.fails("bob", `required flag(s) "to" not set`, "workspaces", "transfer", "ai-ws")

	c.workspace("agentbot", "second")
	c.fails("root", "no answer (use --yes to skip the question)", "users", "delete", "agentbot")
	c.fails("root", "still owns", "users", "delete", "-y", "agentbot")
	out = c.ok("root", "users", "delete", "-y", "agentbot", "--transfer-to", "bob")
	if !strings.Contains(out, "their workspaces now belong to bob") {
		t.Errorf("delete output %q", out)
	}
	if got := norm(c.ok("bob", "list", "-c", "workspace,role")); got != norm("WORKSPACE   ROLE\nbob/ai-ws   owner\nbob/second  owner") {
		t.Errorf("bob's list:\n%s", got)
	}
}

func TestMarkOutdatedCLI(t *testing.T) {
	c := newCLIEnv(t)
	c.user("root", true)
	c.user("alice", false)
	c.user("bob", false)
	id := c.workspace("alice", "ws")
	c.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	c.fails("alice", "only site admins may mark workspaces as needing an update", "workspaces", "mark-outdated", "alice/ws")
	c.fails("bob", "that needs the admin role, and yours is use", "workspaces", "update", "alice/ws")
	c.ok("root", "workspaces", "mark-outdated", "alice/ws")
	if out := c.ok("bob", "workspaces", "update", "alice/ws"); !strings.Contains(out, "is running") {
		t.Errorf("update output %q", out)
	}
	c.fails("bob", "that needs the admin role, and yours is use", "workspaces", "update", "alice/ws")
	c.ok("root", "workspaces", "mark-outdated", "alice/ws")
	c.ok("root", "workspaces", "mark-outdated", "--clear", "alice/ws")
	c.fails("bob", "that needs the admin role", "workspaces", "update", "alice/ws")
}

// TestSettingsOverriddenByFlag: enabling sharing while the server runs
// with --disable-sharing stores the setting but fails, saying why.
func TestSettingsOverriddenByFlag(t *testing.T) {
	dir := t.TempDir()
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{Store: st, DisableSharing: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); st.Close() })
	c := &cliEnv{t: t, store: st, url: srv.URL, dir: dir, tokens: map[string]string{}}
	c.user("root", true)
	c.fails("root", "the server runs with --disable-sharing, which overrides it", "settings", "set", "sharing=enabled")
	c.ok("root", "settings", "set", "sharing=disabled")
}

// TestSuspendedUserIsToldSo: a suspended user's CLI says the account is
// suspended, not that the token is bad.
func TestSuspendedUserIsToldSo(t *testing.T) {
	c := newCLIEnv(t)
	c.user("alice", false)
	c.must(c.store.SetUserSuspended(t.Context(), "alice", true))
	c.fails("alice", "your account is suspended", "list")
}
