package sshfront

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/testutil"
)

func TestIdentityRoundTrip(t *testing.T) {
	in := identity{
		Identity:     acl.Identity{User: "alice", KeyFingerprint: "SHA256:x", Cert: true, CertSerial: 1<<63 + 5, CertKeyID: "k"},
		ForceCommand: "", HasForce: true, NoPTY: true, NoAgentForward: true,
	}
	out, err := identityFrom(in.verifiedPermissions())
	if err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("round trip: got %+v, want %+v", out, in)
	}
	if _, err := identityFrom(&ssh.Permissions{}); err == nil {
		t.Fatal("empty permissions gave an identity")
	}
	// What PublicKeyCallback returns for a key only offered is no identity.
	if _, err := identityFrom(in.permissions(nil)); err == nil {
		t.Fatal("permissions not marked verified gave an identity")
	}
}

// TestBoundIdentityIgnoresKeys: a connection bound to an API token's user
// stays that user whatever key it offers. OpenSSH and x/crypto always try
// "none" first, so only the server side can show this.
func TestBoundIdentityIgnoresKeys(t *testing.T) {
	var conf ssh.ServerConfig
	bindIdentity(&conf, identity{Identity: acl.Identity{User: "alice", TokenID: "t1"}})
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	perms, err := conf.PublicKeyCallback(nil, bob.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if perms, err = conf.VerifiedPublicKeyCallback(nil, bob.PublicKey(), perms, ssh.KeyAlgoED25519); err != nil {
		t.Fatal(err)
	}
	if id, err := identityFrom(perms); err != nil || id.User != "alice" || id.TokenID != "t1" || id.KeyFingerprint != "" {
		t.Fatalf("identity with bob's key: %+v %v", id, err)
	}
}

// TestVerifiedKeyMatchesItsPermissions: the identity is that of the key
// that signed; permissions that name another key are refused.
func TestVerifiedKeyMatchesItsPermissions(t *testing.T) {
	alice, bob := testutil.NewSigner(t), testutil.NewSigner(t)
	alicePerms := func() *ssh.Permissions {
		return identity{Identity: acl.Identity{User: "alice", KeyFingerprint: ssh.FingerprintSHA256(alice.PublicKey())}}.permissions(nil)
	}
	perms, err := verifiedKey(nil, alice.PublicKey(), alicePerms(), ssh.KeyAlgoED25519)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := identityFrom(perms); err != nil || id.User != "alice" {
		t.Fatalf("alice's verified key: %+v %v", id, err)
	}
	if _, err := verifiedKey(nil, bob.PublicKey(), alicePerms(), ssh.KeyAlgoED25519); err == nil {
		t.Fatal("bob's key verified with alice's permissions")
	}
	if _, err := verifiedKey(nil, alice.PublicKey(), nil, ssh.KeyAlgoED25519); err == nil {
		t.Fatal("a key without permissions verified")
	}
}
