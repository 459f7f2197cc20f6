package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDevRestartKeepsEverything: `wsgate dev` exits 0 on SIGTERM, and a
// restart over the same directory keeps users, keys, tokens, shares and the
// workspace's files.
func TestDevRestartKeepsEverything(t *testing.T) {
	requireTool(t, "ssh")
	dir := t.TempDir()
	d := startDevIn(t, dir)
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %d %s", r.code, r.stderr)
	}
	if r := d.sshRun(t, "bob", "alice-ws", nil, "echo kept > note.txt"); r.code != 0 {
		t.Fatalf("bob writes: %d %q", r.code, r.stderr)
	}
	key, err := os.ReadFile(d.key("alice"))
	if err != nil {
		t.Fatal(err)
	}
	token := d.token(t, "alice")

	// SIGTERM: a clean, prompt, successful exit.
	if err := d.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.proc.done:
		if d.proc.err != nil {
			t.Fatalf("wsgate dev exited with %v after SIGTERM:\n%s", d.proc.err, d.proc.out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("wsgate dev still running 15 s after SIGTERM")
	}
	// dev.json means "ready": it goes with the server.
	if _, err := os.Stat(filepath.Join(dir, "dev.json")); !os.IsNotExist(err) {
		t.Fatalf("dev.json still there after a stop: %v", err)
	}

	d2 := startDevIn(t, dir)
	if b, _ := os.ReadFile(d2.key("alice")); string(b) != string(key) {
		t.Fatal("alice's key changed across a restart")
	}
	if d2.token(t, "alice") != token {
		t.Fatal("alice's token file changed across a restart")
	}
	r := d2.sshRun(t, "bob", "alice-ws", nil, "cat note.txt")
	if r.code != 0 || r.stdout != "kept\n" {
		t.Fatalf("bob after restart: %d %q %q", r.code, r.stdout, r.stderr)
	}
	var info struct {
		SSHAddr string `json:"ssh_addr"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "dev.json"))
	if err != nil || json.Unmarshal(b, &info) != nil || info.SSHAddr != d2.sshHost+":"+d2.sshPort {
		t.Fatalf("dev.json after restart: %s %v", b, err)
	}
}

// TestDevKeepsWorkspacesOutOfTheDataDir: a session's files are not inside
// the data dir, so the old `cat ../../admin.token` (or any user's token by
// the path relative to the workspace) finds nothing, and the banner says
// that collaborators run as this OS user.
func TestDevKeepsWorkspacesOutOfTheDataDir(t *testing.T) {
	requireTool(t, "ssh")
	dir := t.TempDir()
	d := startDevIn(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "admin.token")); err != nil {
		t.Fatalf("the data dir has no admin.token to protect: %v", err)
	}
	r := d.sshRun(t, "alice", "alice-ws", nil,
		`pwd; for f in ../../admin.token ../../users/alice/token; do test -e "$f" && echo "reachable $f"; done; true`)
	if r.code != 0 {
		t.Fatalf("session: %d %q", r.code, r.stderr)
	}
	lines := strings.SplitN(r.stdout, "\n", 2)
	if wd := lines[0]; strings.HasPrefix(wd+"/", dir+"/") {
		t.Fatalf("the workspace %s is inside the data dir %s", wd, dir)
	}
	if strings.Contains(r.stdout, "reachable") {
		t.Fatalf("token files reachable from the workspace: %q", r.stdout)
	}
	mustContain(t, "banner", d.proc.out.String(), "as your OS user")
}
