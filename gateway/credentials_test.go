package gateway

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/gateway/internal/revokedkeys"
	"github.com/wsgate/wsgate/internal/testutil"
)

// withRevocations makes the front door refuse what the store (and file,
// when given) revokes, as Server wires it — without the access cache,
// which the harness builds after the options ran (e2e's store outage test
// covers the cached path).
func withRevocations(file *revokedkeys.File) envOption {
	return func(c *envConfig) { c.ssh.Revocations = revocations{store: c.store, file: file} }
}

// TestHTTPSSessionEndsWithToken: a session opened over HTTPS with an API
// token that expires in a moment is dropped, with the message, within 2 s
// of the expiry — the sweeper wakes for it, not at its periodic interval.
// A session on a token without an expiry stays.
func TestHTTPSSessionEndsWithToken(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	e.startRevoker(revoke.Config{SweepInterval: time.Hour})
	hs := e.upgradeServer(true)
	expiry := time.Now().Add(1500 * time.Millisecond)
	short, _ := e.apiToken("alice", func(tk *acl.Token) { tk.ExpiresAt = expiry })
	long, _ := e.apiToken("alice")
	dying := startLive(t, e.mustDialHTTPS(hs, short, "alice-ws"))
	staying := startLive(t, e.mustDialHTTPS(hs, long, "alice-ws"))
	dying.expectDropped(t, "short token", "your API token expired")
	if late := time.Since(expiry); late < 0 || late > 2*time.Second {
		t.Fatalf("dropped %v after the token's expiry, want within 2s", late)
	}
	staying.expectAlive(t, "token without expiry")
}

// TestCertSessionEndsAtValidBefore: a session made with a certificate ends
// when the certificate does.
func TestCertSessionEndsAtValidBefore(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	e.startRevoker(revoke.Config{SweepInterval: time.Hour})
	before := time.Now().Add(2 * time.Second).Truncate(time.Second)
	c, err := e.dialWith("alice-ws", ssh.PublicKeys(cert(t, e.ca, []string{"alice"}, func(c *ssh.Certificate) {
		c.ValidBefore = uint64(before.Unix())
	})))
	must(t, err)
	live := startLive(t, c)
	live.expectDropped(t, "short certificate", "your SSH certificate expired")
	if late := time.Since(before); late < 0 || late > 2*time.Second {
		t.Fatalf("dropped %v after ValidBefore, want within 2s", late)
	}
}

// TestRevokedCertDroppedAndRefused: revoking a certificate by serial, or
// its key, drops its live sessions with a message and refuses it at the
// next login; other certificates and the owner's key keep working.
func TestRevokedCertDroppedAndRefused(t *testing.T) {
	e := newEnv(t, withRevocations(nil))
	e.startAgent("alice/alice-ws")
	e.startRevoker(revoke.Config{})
	ctx := context.Background()
	dial := func(s ssh.Signer) (*ssh.Client, error) { return e.dialWith("alice-ws", ssh.PublicKeys(s)) }

	revokedKey := testutil.NewSigner(t)
	bySerial := certFor(t, e.ca, testutil.NewSigner(t), 1001)
	byKey := certFor(t, e.ca, revokedKey, 1002)
	other := certFor(t, e.ca, testutil.NewSigner(t), 1003)
	c1, err := dial(bySerial)
	must(t, err)
	c2, err := dial(byKey)
	must(t, err)
	c3, err := dial(other)
	must(t, err)
	l1, l2, l3 := startLive(t, c1), startLive(t, c2), startLive(t, c3)
	owner := startLive(t, e.mustDial("alice", "alice-ws"))

	must(t, e.store.RevokeCert(ctx, acl.RevokedCert{Serial: 1001}))
	l1.expectDropped(t, "by serial", "your SSH certificate was revoked")
	fp := ssh.FingerprintSHA256(revokedKey.PublicKey())
	must(t, e.store.RevokeCert(ctx, acl.RevokedCert{Fingerprint: fp}))
	l2.expectDropped(t, "by key", "your SSH certificate was revoked")
	l3.expectAlive(t, "another certificate")
	owner.expectAlive(t, "the owner's key")

	for name, s := range map[string]ssh.Signer{
		"revoked serial": bySerial, "revoked key": byKey,
		// Another certificate of the revoked key is revoked with it.
		"new certificate of the revoked key": certFor(t, e.ca, revokedKey, 1004),
	} {
		if _, err := dial(s); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("%s: login %v, want refused", name, err)
		}
	}
	if !strings.Contains(e.logs.String(), "credential revoked") {
		t.Fatal("the refusal was not logged")
	}
	if _, err := dial(other); err != nil {
		t.Fatalf("a certificate not revoked: %v", err)
	}
}

// certFor certifies key for alice with serial.
func certFor(t *testing.T, ca, key ssh.Signer, serial uint64) ssh.Signer {
	t.Helper()
	c := &ssh.Certificate{
		Key: key.PublicKey(), Serial: serial, CertType: ssh.UserCert, KeyId: "revocable",
		ValidPrincipals: []string{"alice"},
		ValidAfter:      uint64(time.Now().Add(-time.Minute).Unix()),
		ValidBefore:     uint64(time.Now().Add(time.Hour).Unix()),
	}
	must(t, c.SignCert(rand.Reader, ca))
	s, err := ssh.NewCertSigner(c, key)
	must(t, err)
	return s
}

// TestRevokedKeysFile: a key added to the revoked-keys file ends its live
// sessions when the file is reloaded, and is refused from then on.
func TestRevokedKeysFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "revoked_keys")
	must(t, os.WriteFile(path, []byte("# none yet\n"), 0o600))
	file, err := revokedkeys.Load(path, nil)
	must(t, err)
	e := newEnv(t, withRevocations(file))
	e.startAgent("alice/alice-ws")
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	rv := e.startRevoker(revoke.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go file.Watch(ctx, 20*time.Millisecond, func() { rv.DropRevokedKeys(file.Revoked) })

	bob := startLive(t, e.mustDial("bob", "alice/alice-ws"))
	alice := startLive(t, e.mustDial("alice", "alice-ws"))
	line := ssh.MarshalAuthorizedKey(e.keys["bob"].PublicKey())
	must(t, os.WriteFile(path, append([]byte("# bob's laptop\n"), line...), 0o600))
	bob.expectDropped(t, "bob", "your SSH key was revoked")
	alice.expectAlive(t, "alice")
	if _, err := e.dial("bob", "alice/alice-ws"); err == nil {
		t.Fatal("a key in the revoked keys file logged in")
	}
	testutil.Eventually(t, "file reloaded once", func() bool { return file.Len() == 1 })
}
