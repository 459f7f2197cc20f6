package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/agent/agentkey"
	"github.com/wsgate/wsgate/internal/testutil"
)

// runAsUser is the OS user the privilege-separation tests run sessions as
// (created if missing; CI runs as root).
const runAsUser = "wsgate-e2e-bob"

// writeTokenFile writes the agent token to a 0600 file in a directory
// everyone may enter, so only the file's mode keeps it from others.
func writeTokenFile(t testing.TB, token string) string {
	t.Helper()
	dir := enterableTempDir(t)
	path := filepath.Join(dir, "agent.token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// enterableTempDir is a temporary directory other users may enter, with
// every directory above it: t.TempDir makes them 0700, which alone would
// keep a session user out and prove nothing about the files inside.
func enterableTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func fileUID(t testing.TB, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

// TestAgentRunAs: an agent running as root with --run-as runs sessions,
// scp and sftp as that user, and the user cannot read the agent's key file, token
// file, environment or memory. A token file others may read is refused.
func TestAgentRunAs(t *testing.T) {
	requireTool(t, "ssh")
	requireTool(t, "scp")
	requireTool(t, "sftp")
	if os.Geteuid() != 0 {
		t.Skip("the agent must run as root to run sessions as another user")
	}
	bob := testutil.OSUser(t, runAsUser)
	uid, _ := testutil.IDs(t, bob)
	dir := t.TempDir()
	token := seedServer(t, dir)
	d := startServer(t, dir)
	wsDir := filepath.Join(bob.HomeDir, fmt.Sprintf("e2e-ws-%d", os.Getpid()))
	t.Cleanup(func() { os.RemoveAll(wsDir) })

	loose := writeTokenFile(t, token)
	if err := os.Chmod(loose, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, 10*time.Second, nil, wsgateBin, "agent", "--url", d.url, "--token-file", loose, "--dir", wsDir, "--run-as", runAsUser)
	if r.code == 0 {
		t.Fatal("agent accepted a token file others may read")
	}
	mustContain(t, "agent stderr", r.stderr, "accessible by others")

	tokenFile := writeTokenFile(t, token)
	// The key's directory sits in one the session user may enter, so that
	// only the agent's own modes keep them out.
	stateParent := enterableTempDir(t)
	stateDir := filepath.Join(stateParent, "state")
	keyFile := filepath.Join(stateDir, agentkey.FileName(aliceWS.String()))
	agent := startProc(t, nil, "agent", "--url", d.url, "--token-file", tokenFile, "--state-dir", stateDir,
		"--dir", wsDir, "--workspace", aliceWS.String(), "--run-as", runAsUser)
	d.waitAgent(t, "alice", "alice-ws")

	if r := d.sshRun(t, "alice", "alice-ws", nil, "id -u; touch via-ssh"); r.code != 0 || r.stdout != bob.Uid+"\n" {
		t.Fatalf("id -u in a session: %+v, want %s", r, bob.Uid)
	}
	local := filepath.Join(t.TempDir(), "up.txt")
	if err := os.WriteFile(local, []byte("payload\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	scpArgs := append(d.sshOpts(d.key("alice")), "-P", d.sshPort)
	if r := run(t, 30*time.Second, nil, "scp", append(scpArgs, local, "alice-ws@"+d.sshHost+":"+wsDir+"/via-scp")...); r.code != 0 {
		t.Fatalf("scp: %+v", r)
	}
	if r := run(t, 30*time.Second, nil, "scp", append(scpArgs, "-O", local, "alice-ws@"+d.sshHost+":via-legacy-scp")...); r.code != 0 {
		t.Fatalf("scp -O: %+v", r)
	}
	sftpArgs := append(d.sshOpts(d.key("alice")), "-P", d.sshPort, "-b", "-", "alice-ws@"+d.sshHost)
	if r := run(t, 30*time.Second, strings.NewReader("put "+local+" "+wsDir+"/via-sftp\n"), "sftp", sftpArgs...); r.code != 0 {
		t.Fatalf("sftp: %+v", r)
	}
	for _, name := range []string{"via-ssh", "via-scp", "via-legacy-scp", "via-sftp"} {
		if got := fileUID(t, filepath.Join(wsDir, name)); got != uid {
			t.Errorf("%s owned by uid %d, want %s's %d", name, got, runAsUser, uid)
		}
	}

	// What the agent keeps is out of the session's reach. Each read prints
	// its exit status; the token must appear nowhere.
	pid := strconv.Itoa(agent.cmd.Process.Pid)
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatalf("the agent's key file: %v", err)
	}
	probe := fmt.Sprintf(`for f in %s %s /proc/%s/environ /proc/%s/mem /proc/%s/cmdline; do head -c 100000 "$f" >/dev/null 2>&1; echo "$f $?"; done; cat %s %s /proc/%s/environ 2>&1`,
		keyFile, tokenFile, pid, pid, pid, keyFile, tokenFile, pid)
	r = d.sshRun(t, "alice", "alice-ws", nil, probe)
	if strings.Contains(r.stdout+r.stderr, token) {
		t.Fatalf("a session read the agent token:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, string(key[:40])) {
		t.Fatalf("a session read the agent's key file:\n%s", r.stdout)
	}
	want := fmt.Sprintf("%s 1\n%s 1\n/proc/%s/environ 1\n/proc/%s/mem 1\n/proc/%s/cmdline 0\n", keyFile, tokenFile, pid, pid, pid)
	if !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("reads from a session:\n%s\nwant the key file, the token file, environ and mem refused (and cmdline, which holds no secret, readable):\n%s", r.stdout, want)
	}
}

// TestAgentTokenNotInProc: an agent given its token in the environment or
// with --token re-executes itself without it, so its /proc environ and
// cmdline, read from a session, hold no secret.
func TestAgentTokenNotInProc(t *testing.T) {
	requireTool(t, "ssh")
	dir := t.TempDir()
	token := seedServer(t, dir)
	d := startServer(t, dir)
	wsDir := filepath.Join(dir, "ws")
	for _, how := range []string{"env", "argv"} {
		t.Run(how, func(t *testing.T) {
			var env []string
			args := []string{"agent", "--url", d.url, "--dir", wsDir, "--workspace", aliceWS.String(), "--run-as", selfUser(t)}
			if how == "env" {
				env = []string{"WSGATE_AGENT_TOKEN=" + token}
			} else {
				args = append(args, "--token", token)
			}
			agent := startProc(t, env, args...)
			d.waitAgent(t, "alice", "alice-ws")
			pid := agent.cmd.Process.Pid
			r := d.sshRun(t, "alice", "alice-ws", nil, fmt.Sprintf(`tr '\0' '\n' </proc/%d/environ; echo ---; tr '\0' ' ' </proc/%d/cmdline`, pid, pid))
			if r.code != 0 {
				t.Fatalf("read the agent's /proc: %+v", r)
			}
			// Proof the reads worked: the environment has PATH, the
			// command line the agent's flags (and the descriptor the
			// token came through).
			mustContain(t, "agent environ", r.stdout, "PATH=")
			mustContain(t, "agent cmdline", r.stdout, "--token-fd=")
			if strings.Contains(r.stdout, token) {
				t.Fatalf("the agent's /proc shows its token:\n%s", r.stdout)
			}
			if how == "argv" {
				mustContain(t, "agent log", agent.out.String(), "use --token-file")
			}
			agent.stop(t)
		})
	}
}
