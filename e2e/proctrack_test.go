package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/internal/testutil"
)

// startProcServer is startRevokeServer with extra flags for the agent,
// whose process it returns too.
func startProcServer(t *testing.T, agentArgs ...string) (*devEnv, *proc) {
	t.Helper()
	dir, tokens := seedRevokeDir(t)
	d := startServer(t, dir)
	ws := acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	agent := startProc(t, []string{"WSGATE_AGENT_TOKEN=" + tokens[ws]},
		append([]string{"agent", "--url", d.url, "--dir", filepath.Join(dir, "ws"), "--workspace", ws.String(), "--run-as", selfUser(t)}, agentArgs...)...)
	d.waitAgent(t, "alice", "alice-ws")
	return d, agent
}

// running: pid is a live process (not exited; an exited orphan may wait a
// moment for init to reap it) whose command line starts with prefix.
func running(pid int, prefix string) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	if i := bytes.LastIndexByte(stat, ')'); i < 0 || len(stat) < i+3 || stat[i+2] == 'Z' {
		return false
	}
	cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.HasPrefix(strings.ReplaceAll(string(cmdline), "\x00", " "), prefix)
}

// detach has user start `command` detached in alice-ws (the shell then
// exits, and the ssh session with it) and returns its pid once it runs
// want: `nohup sleep 1` is nohup for a moment before it execs sleep.
func (d *devEnv) detach(t *testing.T, user, command, want string) int {
	t.Helper()
	r := d.sshRun(t, user, "alice-ws", nil, command+" >/dev/null 2>&1 </dev/null & echo $!")
	pid, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	if r.code != 0 || err != nil {
		t.Fatalf("%s: %+v", command, r)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	testutil.WaitFor(t, 5*time.Second, want+" running", func() bool { return running(pid, want) })
	return pid
}

// TestRevokeEndsDetachedProcesses: bob's detached processes (nohup, and
// setsid, which leaves his session and process group) are gone within 2 s
// of his share's removal, while alice's own detached process in the same
// workspace lives on.
func TestRevokeEndsDetachedProcesses(t *testing.T) {
	requireTool(t, "ssh")
	requireTool(t, "setsid")
	d, agent := startProcServer(t)
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob")
	nohup := d.detach(t, "bob", "nohup sleep 321", "sleep 321")
	setsid := d.detach(t, "bob", "setsid sleep 322", "sleep 322")
	mine := d.detach(t, "alice", "nohup sleep 323", "sleep 323")

	start := time.Now()
	d.cli(t, "alice", "sharing", "remove", "alice-ws", "--user", "bob")
	testutil.WaitFor(t, 2*time.Second, "bob's detached processes gone", func() bool {
		return !running(nohup, "sleep 321") && !running(setsid, "sleep 322")
	})
	t.Logf("bob's processes gone %v after the unshare", time.Since(start).Round(time.Millisecond))
	if !running(mine, "sleep 323") {
		t.Fatal("alice's own detached process was ended with bob's")
	}
	testutil.WaitFor(t, 2*time.Second, "the agent's log of what it ended", func() bool {
		out := agent.out.String()
		return strings.Contains(out, "process ended") && strings.Contains(out, "sleep 321") && strings.Contains(out, "user=bob")
	})
}

// TestRevokeKeepProcesses: with --on-revoke keep-processes the agent keeps
// bob's detached process, and says so.
func TestRevokeKeepProcesses(t *testing.T) {
	requireTool(t, "ssh")
	d, agent := startProcServer(t, "--on-revoke", "keep-processes")
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob")
	pid := d.detach(t, "bob", "nohup sleep 324", "sleep 324")
	d.cli(t, "alice", "sharing", "remove", "alice-ws", "--user", "bob")
	testutil.WaitFor(t, 5*time.Second, "the agent to keep bob's processes", func() bool {
		return strings.Contains(agent.out.String(), "processes kept (--on-revoke keep-processes)")
	})
	if !running(pid, "sleep 324") {
		t.Fatal("bob's process was ended despite --on-revoke keep-processes")
	}
}

// TestRevokeWhileAgentAwayEndsProcesses: bob's access ends while the
// gateway is down (its embedded store written directly, so no event
// reaches anyone); when the agent reconnects to the restarted gateway, the
// gateway has it end bob's detached process.
func TestRevokeWhileAgentAwayEndsProcesses(t *testing.T) {
	requireTool(t, "ssh")
	d, _ := startProcServer(t)
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob")
	pid := d.detach(t, "bob", "nohup sleep 325", "sleep 325")
	mine := d.detach(t, "alice", "nohup sleep 326", "sleep 326")

	d.proc.stop(t)
	st, err := filestore.Open(filepath.Join(d.dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ClearGrants(t.Context(), acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if !running(pid, "sleep 325") {
		t.Fatal("bob's process ended before the agent reconnected")
	}
	// The same ports: the agent dials the URL it was given.
	d.proc = startProc(t, nil, "server", "--data-dir", d.dir,
		"--ssh-addr", d.sshHost+":"+d.sshPort, "--http-addr", strings.TrimPrefix(d.url, "http://"),
		"--metrics-addr", strings.TrimPrefix(d.metricsURL, "http://"))
	d.waitAgent(t, "alice", "alice-ws")
	testutil.WaitFor(t, 5*time.Second, "bob's process gone after the agent reconnected", func() bool {
		return !running(pid, "sleep 325")
	})
	if !running(mine, "sleep 326") {
		t.Fatal("alice's own detached process was ended")
	}
}
