package agentkey

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

func open(t *testing.T, path, token string) *Store {
	t.Helper()
	s, err := Open(path, token)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func same(a, b ssh.PublicKey) bool { return string(a.Marshal()) == string(b.Marshal()) }

func TestEnrolRestartRotate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", FileName("alice/ws"))
	s := open(t, path, "tok")
	tok, pending, ok := s.Enrolment()
	if !ok || tok != "tok" {
		t.Fatalf("a new identity with a token must enrol: %q %v", tok, ok)
	}
	if err := s.Enrolled("uid1"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}

	// Restarts: with the same token, or none, it signs with the key.
	for _, token := range []string{"tok", ""} {
		r := open(t, path, token)
		if _, _, ok := r.Enrolment(); ok {
			t.Fatalf("restart with token %q enrols again", token)
		}
		uid, signers := r.Signers()
		if uid != "uid1" || len(signers) != 1 || !same(signers[0].PublicKey(), pending) {
			t.Fatalf("restart signs as %q with %d keys", uid, len(signers))
		}
	}
	// A new token enrols again.
	if _, _, ok := open(t, path, "tok2").Enrolment(); !ok {
		t.Fatal("a new token does not enrol")
	}

	// Rotation: the new key first, the old kept until the new one is used.
	pub, err := s.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	next, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	_, signers := open(t, path, "").Signers()
	if len(signers) != 2 || !same(signers[0].PublicKey(), next) || !same(signers[1].PublicKey(), pending) {
		t.Fatalf("after rotate: %d signers, want the new key then the old", len(signers))
	}
	if err := s.Authenticated(pending); err != nil {
		t.Fatal(err)
	}
	if _, signers := s.Signers(); len(signers) != 2 {
		t.Fatal("the old key authenticating dropped the new one")
	}
	if err := s.Authenticated(next); err != nil {
		t.Fatal(err)
	}
	_, signers = open(t, path, "").Signers()
	if len(signers) != 1 || !same(signers[0].PublicKey(), next) {
		t.Fatalf("after the new key authenticated: %d signers", len(signers))
	}
}

func TestRotateKeepsUnusedKeys(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), FileName("")), "tok")
	if _, _, ok := s.Enrolment(); !ok {
		t.Fatal("no enrolment")
	}
	if err := s.Enrolled("uid1"); err != nil {
		t.Fatal(err)
	}
	var pubs []string
	for range 6 {
		p, err := s.Rotate()
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	_, signers := s.Signers()
	if len(signers) != 1+maxOlder+1 {
		t.Fatalf("%d signers, want the newest, %d older and the pinned", len(signers), maxOlder)
	}
	// An older rotation's key that the gateway did pin still works.
	older, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(pubs[len(pubs)-2]))
	if err := s.Authenticated(older); err != nil {
		t.Fatal(err)
	}
	if _, signers := s.Signers(); len(signers) != 1 || !same(signers[0].PublicKey(), older) {
		t.Fatal("the older key that authenticated is not the one kept")
	}
}
