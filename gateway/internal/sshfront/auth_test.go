package sshfront

import (
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
)

func TestIdentityRoundTrip(t *testing.T) {
	in := identity{
		Identity:     acl.Identity{User: "alice", KeyFingerprint: "SHA256:x", Cert: true, CertSerial: 1<<63 + 5, CertKeyID: "k"},
		ForceCommand: "", HasForce: true, NoPTY: true, NoAgentForward: true,
	}
	out, err := identityFrom(in.permissions(nil))
	if err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Fatalf("round trip: got %+v, want %+v", out, in)
	}
	if _, err := identityFrom(&ssh.Permissions{}); err == nil {
		t.Fatal("empty permissions gave an identity")
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
	if id, err := identityFrom(perms); err != nil || id.User != "alice" || id.TokenID != "t1" || id.KeyFingerprint != "" {
		t.Fatalf("identity with bob's key: %+v %v", id, err)
	}
}
