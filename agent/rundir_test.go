package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRuntimeDirPerWorkspace: two workspaces get two private directories,
// the same workspace the same one again, and sessions see it.
func TestRuntimeDirPerWorkspace(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	a1, err := defaultRuntimeDir("alice/one", "/srv/one", os.Getuid(), true)
	if err != nil {
		t.Fatal(err)
	}
	again, err := defaultRuntimeDir("alice/one", "/srv/one", os.Getuid(), true)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := defaultRuntimeDir("alice/two", "/srv/two", os.Getuid(), true)
	if err != nil {
		t.Fatal(err)
	}
	if a1 != again || a1 == a2 {
		t.Fatalf("dirs: %q %q %q", a1, again, a2)
	}
	if !strings.HasPrefix(a1, filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "wsgate")+"/") {
		t.Fatalf("%q is not under $XDG_RUNTIME_DIR/wsgate", a1)
	}
	for _, d := range []string{filepath.Dir(a1), a1, a2} {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v", d, fi.Mode(), err)
		}
	}
	// A symlink planted where the directory goes is refused.
	base := filepath.Dir(a1)
	link := filepath.Join(base, runtimeDirName("alice/three", "/srv/three"))
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := defaultRuntimeDir("alice/three", "/srv/three", os.Getuid(), true); err == nil {
		t.Fatal("a symlink was accepted as the runtime directory")
	}
}

func TestSessionsGetTheRuntimeDir(t *testing.T) {
	a := newTestAgent(t)
	s := newSession(t, dialConn(t, a))
	out, err := s.Output(`printf '%s\n' "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR" "TMUX_TMPDIR=$TMUX_TMPDIR"`)
	if err != nil {
		t.Fatal(err)
	}
	want := "XDG_RUNTIME_DIR=" + a.cfg.RuntimeDir + "\nTMUX_TMPDIR=" + a.cfg.RuntimeDir + "\n"
	if string(out) != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}
