package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/internal/testutil"
)

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	if tok, err := readTokenFile(write("ok", "wsga_x\n", 0o600)); err != nil || tok != "wsga_x" {
		t.Fatalf("0600 file: %q %v", tok, err)
	}
	if tok, err := readTokenFile(write("ro", "wsga_y", 0o400)); err != nil || tok != "wsga_y" {
		t.Fatalf("0400 file: %q %v", tok, err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o644} {
		_, err := readTokenFile(write("loose", "wsga_z", mode))
		if err == nil || !strings.Contains(err.Error(), "accessible by others") {
			t.Errorf("mode %04o: %v, want a refusal", mode, err)
		}
	}
	if _, err := readTokenFile(write("empty", "\n", 0o600)); err == nil {
		t.Error("empty token file accepted")
	}
	if _, err := readTokenFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing token file accepted")
	}
}

func TestResolveRunAs(t *testing.T) {
	if os.Geteuid() != 0 {
		if got, err := resolveRunAs("", t.TempDir()); err != nil || got != "" {
			t.Fatalf("non-root agent: %q %v, want its own user", got, err)
		}
		return
	}
	rootDir := t.TempDir()
	if _, err := resolveRunAs("", rootDir); err == nil || !strings.Contains(err.Error(), "--run-as root") {
		t.Fatalf("root agent, root's --dir: %v, want a refusal naming --run-as root", err)
	}
	if got, err := resolveRunAs("root", rootDir); err != nil || got != "root" {
		t.Fatalf("--run-as root: %q %v", got, err)
	}
	bob := testutil.OSUser(t, "wsgate-e2e-bob")
	uid, gid := testutil.IDs(t, bob)
	bobDir := t.TempDir()
	if err := os.Chown(bobDir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if got, err := resolveRunAs("", bobDir); err != nil || got != bob.Username {
		t.Fatalf("root agent, bob's --dir: %q %v, want %s", got, err, bob.Username)
	}
	// A token file of the session user's is refused; root's is fine.
	tok := filepath.Join(bobDir, "token")
	if err := os.WriteFile(tok, []byte("wsga_x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkTokenFileOwner(tok, uid); err != nil {
		t.Fatalf("root's token file: %v", err)
	}
	if err := os.Chown(tok, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := checkTokenFileOwner(tok, uid); err == nil {
		t.Fatal("a token file owned by the session user was accepted")
	}
}
