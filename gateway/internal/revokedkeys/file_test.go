package revokedkeys

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/testutil"
)

func newKey(t *testing.T) (ssh.Signer, ssh.PublicKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.PublicKey()
}

func TestParse(t *testing.T) {
	_, k1 := newKey(t)
	_, k2 := newKey(t)
	ca, _ := newKey(t)
	c := &ssh.Certificate{Key: k2, CertType: ssh.UserCert, ValidPrincipals: []string{"bob"}, ValidBefore: ssh.CertTimeInfinity}
	if err := c.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	text := "# revoked\n\n" + string(ssh.MarshalAuthorizedKey(k1)) + "  " + string(ssh.MarshalAuthorizedKey(c))
	fps, err := Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	// A listed certificate revokes its key.
	if len(fps) != 2 || !fps[ssh.FingerprintSHA256(k1)] || !fps[ssh.FingerprintSHA256(k2)] {
		t.Fatalf("fingerprints %v", fps)
	}
	if _, err := Parse([]byte("ssh-ed25519 notbase64\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("bad line: %v", err)
	}
	if _, err := Parse(append([]byte("SSHKRL\n\x00"), 0, 0, 0, 1)); err == nil || !strings.Contains(err.Error(), "KRL") {
		t.Fatalf("binary KRL: %v", err)
	}
}

func TestWatchReloadsAndKeepsOnError(t *testing.T) {
	_, k1 := newKey(t)
	path := filepath.Join(t.TempDir(), "revoked")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := acl.Identity{User: "bob", KeyFingerprint: ssh.FingerprintSHA256(k1)}
	if f.Revoked(id) {
		t.Fatal("revoked by an empty file")
	}
	changed := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.Watch(ctx, 10*time.Millisecond, func() { changed <- struct{}{} })
	if err := os.WriteFile(path, ssh.MarshalAuthorizedKey(k1), 0o600); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "reloaded", func() bool { return f.Revoked(id) })
	<-changed
	// A broken file keeps what was revoked.
	if err := os.WriteFile(path, []byte("garbage that is no key, and longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // several watch intervals: nothing to wait for
	if !f.Revoked(id) {
		t.Fatal("a malformed file un-revoked a key")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Fatal("a missing file loaded")
	}
}
