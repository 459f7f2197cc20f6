package sshkey

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestLoadOrCreateKeepsKeyAndOpenSSHReadsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "id_ed25519")
	a, err := LoadOrCreate(path, "alice@wsgate")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadOrCreate(path, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.PublicKey().Marshal(), b.PublicKey().Marshal()) {
		t.Fatal("second load made a new key")
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode = %v, %v", st.Mode().Perm(), err)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil || !strings.HasSuffix(string(pub), " alice@wsgate\n") {
		t.Fatalf("pub file %q, %v", pub, err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil || !bytes.Equal(k.Marshal(), a.PublicKey().Marshal()) {
		t.Fatalf("pub file does not match: %v", err)
	}
	// OpenSSH itself must accept the private key file.
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh-keygen missing in CI")
		}
		t.Skip("ssh-keygen not installed")
	}
	out, err := exec.Command("ssh-keygen", "-y", "-f", path).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -y: %v", err)
	}
	if !strings.HasPrefix(string(pub), strings.TrimSpace(string(out))) {
		t.Fatalf("ssh-keygen derived %q, pub file %q", out, pub)
	}
}

func TestLoadRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path, ""); err == nil {
		t.Fatal("garbage accepted")
	}
}
