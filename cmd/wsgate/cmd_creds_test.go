package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
)

// TestCLIStripsControlCharacters: a token name with escape sequences (any
// user can pick one) reaches the terminal without them.
func TestCLIStripsControlCharacters(t *testing.T) {
	c := newCLIEnv(t)
	c.user("bob", false)
	c.must(c.store.CreateToken(t.Context(), acl.Token{ID: "t9", User: "bob", Name: "\x1b]0;pwned\x07\x1b[2Jevil\u202e", Hash: "h9", CreatedAt: time.Now()}))
	out := c.ok("bob", "tokens", "list")
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Fatalf("control characters printed: %q", out)
	}
	if !strings.Contains(out, "]0;pwned[2Jevil") {
		t.Fatalf("the name's printable text is missing: %q", out)
	}
}

// TestCLIDurationsMustBePositive: --for 0s would otherwise mean forever.
func TestCLIDurationsMustBePositive(t *testing.T) {
	c := newCLIEnv(t)
	c.user("alice", false)
	c.user("bob", false)
	id := c.workspace("alice", "ws")
	for _, d := range []string{"0s", "-1h"} {
		c.fails("alice", "must be positive", "sharing", "share", "ws", "--user", "bob", "--for", d)
		c.fails("alice", "must be positive", "tokens", "create", "--lifetime", d)
	}
	if g := c.grantsOf(id); g != "" {
		t.Fatalf("grants after refused shares: %s", g)
	}
}

// TestCLICertsRevoke: a site admin revokes by serial and by key file and
// lists the revocations; others may not.
func TestCLICertsRevoke(t *testing.T) {
	c := newCLIEnv(t)
	c.user("root", true)
	c.user("bob", false)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	c.must(err)
	key, err := ssh.NewPublicKey(pub)
	c.must(err)
	keyFile := filepath.Join(t.TempDir(), "id.pub")
	c.must(os.WriteFile(keyFile, ssh.MarshalAuthorizedKey(key), 0o600))

	c.fails("bob", "only site admins", "certs", "revoke", "--serial", "7")
	c.fails("root", "exactly one", "certs", "revoke")
	c.fails("root", "exactly one", "certs", "revoke", "--serial", "7", "--key", keyFile)
	if out := c.ok("root", "certs", "revoke", "--serial", "7", "--comment", "lost laptop"); !strings.Contains(out, "Revoked serial 7") {
		t.Fatalf("revoke by serial: %q", out)
	}
	if out := c.ok("root", "certs", "revoke", "--key", keyFile); !strings.Contains(out, "Revoked key "+ssh.FingerprintSHA256(key)) {
		t.Fatalf("revoke by key: %q", out)
	}
	c.fails("root", "already revoked", "certs", "revoke", "--serial", "7")
	out := c.ok("root", "certs", "list-revoked")
	for _, want := range []string{"serial 7", "lost laptop", "key " + ssh.FingerprintSHA256(key), "root"} {
		if !strings.Contains(out, want) {
			t.Errorf("list-revoked lacks %q:\n%s", want, out)
		}
	}
	ok, err := c.store.CertRevoked(t.Context(), 7, "")
	c.must(err)
	if !ok {
		t.Fatal("serial 7 not revoked in the store")
	}
}

// TestCLIInactiveGrants: while sharing is disabled, the owner sees the
// grants marked inactive and can remove them.
func TestCLIInactiveGrants(t *testing.T) {
	c := newCLIEnv(t)
	c.user("alice", false)
	c.user("bob", false)
	id := c.workspace("alice", "ws")
	c.grant(id, acl.SubjectUser, "bob", acl.RoleUse)
	c.must(c.store.SetSettings(t.Context(), acl.Settings{SharingDisabled: true}))
	if out := c.ok("alice", "sharing", "show", "ws"); !strings.Contains(out, "Inactive: workspace sharing is disabled for this deployment") {
		t.Fatalf("sharing show: %q", out)
	}
	if out := c.ok("alice", "list"); !strings.Contains(out, "bob:use (inactive") {
		t.Fatalf("list: %q", out)
	}
	c.ok("alice", "sharing", "remove", "ws", "--user", "bob")
	if g := c.grantsOf(id); g != "" {
		t.Fatalf("grants after remove: %s", g)
	}
}
