package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// TestSFTPRelativeSymlinks: `ln -s` through OpenSSH's sftp, paramiko and
// asyncssh makes a link whose target is exactly what was typed, relative
// stays relative, and each client's argument order lands the link where
// it was asked (asyncssh picks OpenSSH's order from the server's version).
func TestSFTPRelativeSymlinks(t *testing.T) {
	requireTool(t, "sftp")
	d := startDev(t)
	wsDir := d.workspaceDir()
	if err := os.WriteFile(filepath.Join(wsDir, "renamed.bin"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	sftpArgs := append(d.sshOpts(d.key("alice")), "-P", d.sshPort, "-b", "-", "alice-ws@"+d.sshHost)
	if r := run(t, 30*time.Second, strings.NewReader("ln -s renamed.bin link.bin\n"), "sftp", sftpArgs...); r.code != 0 {
		t.Fatalf("sftp ln -s: %+v", r)
	}
	checkLink(t, filepath.Join(wsDir, "link.bin"), "renamed.bin")

	for _, client := range []string{"paramiko", "asyncssh"} {
		t.Run(client, func(t *testing.T) {
			py := requirePyModule(t, client)
			link := client + "-link.bin"
			// Sent as typed: `~` is the session's home (here the workspace).
			var got struct {
				Readlink string `json:"readlink"`
			}
			d.pyClient(t, py, client+"_client.py", "alice", "alice-ws", "", &got, "symlink", "../x/renamed.bin", "~/"+link)
			checkLink(t, filepath.Join(wsDir, link), "../x/renamed.bin")
			if got.Readlink != "../x/renamed.bin" {
				t.Errorf("%s readlink: %q", client, got.Readlink)
			}
		})
	}
}

func checkLink(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.Readlink(path)
	if err != nil || got != want {
		t.Fatalf("symlink %s: target %q (%v), want %q", path, got, err, want)
	}
}

// TestWorkspacePaths: an agent run as root with --run-as and a relative
// --dir. Sessions start in its absolute form; scp and sftp work; `~` is
// the session's home for scp (SFTP mode, whose client strips ~/ and sends
// a path relative to the SFTP start directory, the home), scp -O (the
// remote shell expands it), sftp, and git over ssh.
func TestWorkspacePaths(t *testing.T) {
	for _, tool := range []string{"ssh", "scp", "sftp", "git"} {
		requireTool(t, tool)
	}
	if os.Geteuid() != 0 {
		t.Skip("the agent must run as root to run sessions as another user")
	}
	bob := testutil.OSUser(t, runAsUser)
	dir := t.TempDir()
	token := seedServer(t, dir)
	d := startServer(t, dir)
	rel := fmt.Sprintf("e2e-paths-%d", os.Getpid())
	wsDir := filepath.Join(bob.HomeDir, rel)
	// What lands in bob's home is named after this run and removed.
	mark := fmt.Sprintf("p%d-", os.Getpid())
	t.Cleanup(func() {
		os.RemoveAll(wsDir)
		matches, _ := filepath.Glob(filepath.Join(bob.HomeDir, mark+"*"))
		for _, m := range matches {
			os.RemoveAll(m)
		}
	})
	agent := exec.Command(wsgateBin, "agent", "--url", d.url, "--token-file", writeTokenFile(t, token),
		"--state-dir", t.TempDir(), "--dir", "./"+rel, "--workspace", aliceWS.String(), "--run-as", runAsUser)
	agent.Dir = bob.HomeDir
	out := &testutil.Buffer{}
	agent.Stdout, agent.Stderr = out, out
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		agent.Process.Kill()
		agent.Wait()
		if t.Failed() {
			t.Logf("agent output:\n%s", out)
		}
	})
	d.waitAgent(t, "alice", "alice-ws")

	if r := d.sshRun(t, "alice", "alice-ws", nil, "pwd"); r.code != 0 || r.stdout != wsDir+"\n" {
		t.Fatalf("pwd in a session: %+v, want %s", r, wsDir)
	}
	local := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(local, []byte("payload\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := "alice-ws@" + d.sshHost
	scp := func(extra ...string) {
		t.Helper()
		args := append(append(d.sshOpts(d.key("alice")), "-P", d.sshPort), extra...)
		if r := run(t, 30*time.Second, nil, "scp", args...); r.code != 0 {
			t.Fatalf("scp %v: %+v", extra, r)
		}
	}
	sftp := func(batch string) result {
		t.Helper()
		args := append(d.sshOpts(d.key("alice")), "-P", d.sshPort, "-b", "-", host)
		r := run(t, 30*time.Second, strings.NewReader(batch), "sftp", args...)
		if r.code != 0 {
			t.Fatalf("sftp %q: %+v", batch, r)
		}
		return r
	}
	scp(local, host+":")           // the issue's `scp f alice-ws.coder:`
	sftp("ls\nls " + wsDir + "\n") // and `sftp ls`
	scp(local, host+":~/"+mark+"scp")
	scp("-O", local, host+":~/"+mark+"scp-O")
	// OpenSSH's sftp (9.2) joins ~/x to its working directory itself;
	// that is the home, so the plain name lands there.
	sftp("put " + local + " " + mark + "sftp\n")
	scp(local, host+":"+rel+"/"+mark+"rel") // relative paths start in the home too
	for _, p := range []string{"f.txt", mark + "scp", mark + "scp-O", mark + "sftp", filepath.Join(rel, mark+"rel")} {
		if _, err := os.Stat(filepath.Join(bob.HomeDir, p)); err != nil {
			t.Errorf("%s is not in the session's home: %v", p, err)
		}
	}
	os.Remove(filepath.Join(bob.HomeDir, "f.txt"))

	// git runs `git-receive-pack '~/…'`: the quotes keep the shell from
	// expanding it, git does, with the session's HOME.
	repo := mark + "repo.git"
	if r := d.sshRun(t, "alice", "alice-ws", nil, "git init -q --bare ~/"+repo); r.code != 0 {
		t.Fatalf("git init: %+v", r)
	}
	work := t.TempDir()
	gitEnv := append(os.Environ(), "HOME="+t.TempDir(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@x", "GIT_COMMITTER_NAME=a",
		"GIT_COMMITTER_EMAIL=a@x", "GIT_SSH_COMMAND=ssh "+strings.Join(d.sshOpts(d.key("alice")), " "))
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", work},
		{"-C", work, "commit", "-q", "--allow-empty", "-m", "first"},
		{"-C", work, "push", "-q", fmt.Sprintf("ssh://alice-ws@%s:%s/~/%s", d.sshHost, d.sshPort, repo), "main"},
	} {
		if r := runWith(t, 60*time.Second, gitEnv, nil, "git", args...); r.code != 0 {
			t.Fatalf("git %v: %+v", args, r)
		}
	}
	if r := d.sshRun(t, "alice", "alice-ws", nil, "git -C ~/"+repo+" log --format=%s main"); r.code != 0 || r.stdout != "first\n" {
		t.Fatalf("pushed repo in the home: %+v", r)
	}
}
