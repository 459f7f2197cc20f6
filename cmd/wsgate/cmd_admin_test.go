package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func TestLogin(t *testing.T) {
	c := newCLIEnv(t)
	c.user("alice", false)
	c.fails("alice", "check token", "login", c.url, "--token", "wsg_wrong")
	c.fails("", "not logged in", "list")
	// Token from standard input.
	r := c.runEnv("alice", []string{"WSGATE_URL=", "WSGATE_TOKEN="}, c.tokens["alice"]+"\n", "login", c.url)
	if r.code != 0 || !strings.Contains(r.stdout, "as alice") {
		t.Fatalf("login: %d %s %s", r.code, r.stdout, r.stderr)
	}
	path := filepath.Join(c.home("alice"), ".config", "wsgate", "config.json")
	fi, err := os.Stat(path)
	c.must(err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v", fi.Mode().Perm())
	}
	// Commands now work without the environment...
	r = c.runEnv("alice", []string{"WSGATE_URL=", "WSGATE_TOKEN="}, "", "users", "show")
	if r.code != 0 || !strings.Contains(r.stdout, "alice") {
		t.Fatalf("after login: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// ...and the environment overrides the stored token.
	r = c.runEnv("alice", []string{"WSGATE_URL=", "WSGATE_TOKEN=wsg_wrong"}, "", "users", "show")
	if r.code == 0 || !strings.Contains(r.stderr, "unauthorized") {
		t.Errorf("override: %d %s", r.code, r.stderr)
	}
}

func TestWorkspacesCommands(t *testing.T) {
	c, _ := sharingEnv(t)
	out := c.ok("bob", "workspaces", "create", "dev")
	tok := regexp.MustCompile(`wsga_[A-Za-z0-9_-]+`).FindString(out)
	if tok == "" || !strings.Contains(out, "wsgate agent --url "+c.url+" --token "+tok) {
		t.Fatalf("create output:\n%s", out)
	}
	ws, err := c.store.WorkspaceByAgentTokenHash(t.Context(), acl.HashToken(tok))
	c.must(err)
	if ws.ID().String() != "bob/dev" {
		t.Errorf("token belongs to %s", ws.ID())
	}
	c.fails("bob", `workspace "bob/dev" already exists`, "workspaces", "create", "dev")
	if out := c.ok("bob", "workspaces", "start", "dev"); !strings.Contains(out, "bob/dev is running") {
		t.Errorf("start: %s", out)
	}
	c.fails("bob", "cannot start workspace bob/dev: it is running", "workspaces", "start", "dev")
	c.ok("bob", "workspaces", "stop", "dev")
	c.ok("bob", "workspaces", "rename", "dev", "dev2")
	c.ok("bob", "workspaces", "rotate-agent-token", "dev2")
	var list []apitypes.Workspace
	c.must(json.Unmarshal([]byte(c.ok("bob", "workspaces", "list", "-o", "json")), &list))
	if len(list) != 1 || list[0].Name != "dev2" || list[0].State != acl.StateStopped {
		t.Errorf("list %+v", list)
	}
	// A use grantee may not delete; delete asks unless -y.
	c.grant(acl.WorkspaceID{Owner: "bob", Name: "dev2"}, acl.SubjectUser, "dave", acl.RoleUse)
	c.fails("dave", "you may not delete workspace bob/dev2", "workspaces", "delete", "bob/dev2", "-y")
	r := c.runEnv("bob", nil, "no\n", "workspaces", "delete", "dev2")
	if r.code == 0 {
		t.Error("delete went ahead without a yes")
	}
	r = c.runEnv("bob", nil, "y\n", "workspaces", "delete", "dev2")
	if r.code != 0 {
		t.Errorf("delete: %s", r.stderr)
	}
	if _, err := c.store.GetWorkspace(t.Context(), acl.WorkspaceID{Owner: "bob", Name: "dev2"}); err == nil {
		t.Error("not deleted")
	}
}

func TestAdminCommands(t *testing.T) {
	c, id := sharingEnv(t)
	c.user("root", true)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	c.must(err)
	sp, err := ssh.NewPublicKey(pub)
	c.must(err)
	keyFile := filepath.Join(t.TempDir(), "erin.pub")
	c.must(os.WriteFile(keyFile, ssh.MarshalAuthorizedKey(sp), 0o600))
	fp := ssh.FingerprintSHA256(sp)

	c.fails("alice", "only site admins may create users", "users", "create", "erin")
	c.ok("root", "users", "create", "erin", "--key", "@"+keyFile, "--display-name", "Erin")
	if u, err := c.store.UserByKeyFingerprint(t.Context(), fp); err != nil || u.Name != "erin" {
		t.Fatalf("key lookup: %v %v", u, err)
	}
	out := c.ok("root", "users", "list")
	if !strings.Contains(out, "erin") || !strings.Contains(out, "Erin") {
		t.Errorf("users list:\n%s", out)
	}
	if out := c.ok("root", "users", "keys", "list", "erin"); !strings.Contains(out, fp) {
		t.Errorf("keys:\n%s", out)
	}
	c.ok("root", "users", "keys", "remove", "erin", fp)
	if _, err := c.store.UserByKeyFingerprint(t.Context(), fp); err == nil {
		t.Error("key still there")
	}
	c.ok("root", "users", "keys", "add", "erin", "@"+keyFile)
	c.ok("root", "users", "suspend", "bob")
	c.fails("bob", "unauthorized", "list")
	c.ok("root", "users", "unsuspend", "bob")
	c.ok("bob", "list")
	c.ok("root", "users", "set", "erin", "--site-admin=true")

	c.ok("root", "groups", "create", "ops", "--member", "erin,dave")
	c.ok("root", "groups", "add-member", "ops", "bob")
	c.ok("root", "groups", "remove-member", "ops", "dave")
	if out := norm(c.ok("root", "groups", "show", "ops")); out != "GROUP  ORG  MEMBERS\nops    -    bob,erin" {
		t.Errorf("groups show:\n%s", out)
	}
	// Members are for site admins and those who share a workspace with the group.
	if out := norm(c.ok("alice", "groups", "show", "ops")); out != "GROUP  ORG  MEMBERS\nops    -    -" {
		t.Errorf("groups show as alice:\n%s", out)
	}

	c.ok("root", "orgs", "create", "acme")
	c.fails("alice", "only site admins may change organization settings", "orgs", "settings", "set", "acme", "sharing=disabled")
	c.fails("root", "expected sharing=enabled or sharing=disabled", "orgs", "settings", "set", "acme", "colour=red")
	c.ok("root", "orgs", "settings", "set", "acme", "sharing=disabled")
	if out := c.ok("alice", "orgs", "settings", "show", "acme"); out != "sharing=disabled\n" {
		t.Errorf("settings show %q", out)
	}
	// A workspace in acme cannot be shared any more.
	c.ok("root", "workspaces", "create", "ows", "--owner", "alice", "--org", "acme")
	c.fails("alice", `workspace sharing is disabled for organization "acme"`, "sharing", "share", "ows", "--user", "bob")
	// Others are unaffected.
	c.ok("alice", "sharing", "share", "alice-ws", "--user", "bob")
	if got := c.grantsOf(id); got != "user:bob:use" {
		t.Errorf("grants %q", got)
	}

	// Deployment-wide: only site admins, and then nothing can be shared.
	c.fails("alice", "site admin", "settings", "set", "sharing=disabled")
	c.fails("root", "expected sharing=enabled or sharing=disabled", "settings", "set", "sharing=off")
	c.ok("root", "settings", "set", "sharing=disabled")
	if out := c.ok("root", "settings", "show"); out != "sharing=disabled\n" {
		t.Errorf("settings show %q", out)
	}
	c.fails("alice", "workspace sharing is disabled for this deployment", "sharing", "share", "alice-ws", "--user", "carol")
	if got := c.grantsOf(id); got != "user:bob:use" {
		t.Errorf("grants after a refused share %q", got)
	}
	c.ok("root", "settings", "set", "sharing=enabled")
	c.ok("alice", "sharing", "share", "alice-ws", "--user", "carol")
}

func TestTokensCommands(t *testing.T) {
	c, _ := sharingEnv(t)
	out := c.ok("alice", "tokens", "create", "--name", "laptop", "--lifetime", "1h")
	secret := regexp.MustCompile(`wsg_[A-Za-z0-9_-]+`).FindString(out)
	if secret == "" {
		t.Fatalf("create output:\n%s", out)
	}
	c.tokens["laptop"] = secret
	c.ok("laptop", "users", "show")
	var toks []apitypes.Token
	c.must(json.Unmarshal([]byte(c.ok("alice", "tokens", "list", "-o", "json")), &toks))
	var id string
	for _, tk := range toks {
		if tk.Name == "laptop" {
			id = tk.ID
			if tk.ExpiresAt.IsZero() {
				t.Error("no expiry")
			}
		}
	}
	if id == "" || len(toks) != 2 {
		t.Fatalf("tokens %+v", toks)
	}
	if strings.Contains(c.ok("alice", "tokens", "list"), secret) {
		t.Error("list shows the secret")
	}
	c.fails("bob", "only site admins may manage the tokens of other users", "tokens", "revoke", id, "--user", "alice")
	c.ok("alice", "tokens", "revoke", id)
	c.fails("laptop", "unauthorized", "users", "show")
}
