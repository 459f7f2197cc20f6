package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/testutil"
)

// startSSHAgent runs an ssh-agent holding key and returns its socket.
func startSSHAgent(t *testing.T, key string) string {
	t.Helper()
	requireTool(t, "ssh-agent")
	requireTool(t, "ssh-add")
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ag := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := ag.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ag.Process.Kill(); ag.Wait() })
	testutil.WaitFor(t, 5*time.Second, "ssh-agent socket", func() bool { _, err := os.Stat(sock); return err == nil })
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v %s", err, out)
	}
	return sock
}

// withAgent swaps the harness's IdentityAgent=none for sock (OpenSSH takes
// an option's first value).
func withAgent(args []string, sock string) []string {
	for i, a := range args {
		if a == "IdentityAgent=none" {
			args[i] = "IdentityAgent=" + sock
		}
	}
	return args
}

// backgroundSSH runs ssh with args until the test ends; its stdout and
// stderr are buffered.
func backgroundSSH(t *testing.T, args ...string) (stdout, stderr *testutil.Buffer) {
	t.Helper()
	cmd := exec.Command("ssh", args...)
	stdout, stderr = &testutil.Buffer{}, &testutil.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return stdout, stderr
}

// TestForwardedAgentNeedsTheOwnersConsent: alice's ssh -A into a workspace
// only she can reach forwards as before; once bob can reach it, the
// forward is refused with a message (and no socket exists for bob); with
// agent-forwarding=on it goes through, alice is told that one other user
// can reach it, and bob indeed can.
func TestForwardedAgentNeedsTheOwnersConsent(t *testing.T) {
	requireTool(t, "ssh")
	// The in-process agent makes its sockets under TMPDIR: a private one
	// lets the test see every socket it makes.
	tmp := t.TempDir()
	d := startDevEnv(t, t.TempDir(), []string{"TMPDIR=" + tmp})
	sock := startSSHAgent(t, d.key("alice"))
	fp := strings.Fields(run(t, 10*time.Second, nil, "ssh-keygen", "-lf", d.key("alice")+".pub").stdout)[1]
	sockets := func() []string {
		m, _ := filepath.Glob(filepath.Join(tmp, "wsgate-agent-*", "agent.sock"))
		return m
	}
	aliceA := func(cmd string) []string {
		return append(withAgent(d.sshArgs("alice", "alice-ws", "-A"), sock), cmd)
	}

	// Only alice can reach it: forwarded, nothing said.
	r := run(t, 30*time.Second, nil, "ssh", aliceA("ssh-add -l")...)
	if r.code != 0 || strings.Contains(r.stderr, "wsgate:") {
		t.Fatalf("unshared: %d %q %q", r.code, r.stdout, r.stderr)
	}
	mustContain(t, "keys forwarded while unshared", r.stdout, fp)

	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %d %s", r.code, r.stderr)
	}
	// Shared: refused, with why and how.
	out, errOut := backgroundSSH(t, aliceA(`echo "sock=${SSH_AUTH_SOCK-unset}"; sleep 60`)...)
	testutil.WaitFor(t, 20*time.Second, "alice's session", func() bool { return strings.Contains(out.String(), "sock=") })
	mustContain(t, "alice's session", out.String(), "sock=unset")
	mustContain(t, "refusal", errOut.String(), "agent forwarding refused: 1 other user can reach workspace alice/alice-ws")
	mustContain(t, "refusal", errOut.String(), "wsgate workspaces settings set alice/alice-ws agent-forwarding=on")
	if s := sockets(); len(s) != 0 {
		t.Fatalf("a forwarding socket exists although forwarding was refused: %v", s)
	}

	// bob may not allow it; alice may.
	if r := d.wsgateCLI(t, "bob", "workspaces", "settings", "set", "alice/alice-ws", "agent-forwarding=on"); r.code == 0 {
		t.Fatalf("bob (use) changed a setting: %s", r.stdout)
	}
	r = d.wsgateCLI(t, "alice", "workspaces", "settings", "set", "alice/alice-ws", "agent-forwarding=on")
	if r.code != 0 {
		t.Fatalf("settings set: %d %s", r.code, r.stderr)
	}
	mustContain(t, "settings set", r.stdout, "agent-forwarding=on")
	r = d.wsgateCLI(t, "bob", "workspaces", "show", "alice/alice-ws")
	mustContain(t, "workspaces show", r.stdout, "agent-forwarding=on")

	out, errOut = backgroundSSH(t, aliceA(`echo "sock=${SSH_AUTH_SOCK-unset}"; sleep 60`)...)
	testutil.WaitFor(t, 20*time.Second, "alice's forwarded session", func() bool { return strings.Contains(out.String(), "sock=/") })
	mustContain(t, "notice", errOut.String(), "your ssh-agent is forwarded into alice/alice-ws, where 1 other user can reach its socket")
	s := sockets()
	if len(s) != 1 {
		t.Fatalf("forwarding sockets: %v", s)
	}
	// What the notice warns of: bob can use the socket.
	r = d.sshRun(t, "bob", "alice-ws", nil, "SSH_AUTH_SOCK="+s[0]+" ssh-add -l")
	mustContain(t, "bob through alice's socket", r.stdout, fp)
}

// nonLoopbackAddr returns an address of one of the host's interfaces that
// is not loopback, or "" when it has none.
func nonLoopbackAddr(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
			return ipn.IP.String()
		}
	}
	return ""
}

// TestRemoteForwardBindsLoopback: ssh -R 0.0.0.0:P listens on loopback
// only (and the client still takes the connections: the gateway reports
// the address it asked for), unless the owner sets remote-forward-bind=any.
func TestRemoteForwardBindsLoopback(t *testing.T) {
	requireTool(t, "ssh")
	requireTool(t, "bash")
	other := nonLoopbackAddr(t)
	if other == "" {
		t.Skip("the host has no non-loopback IPv4 address to check that -R does not listen on")
	}
	d := startDev(t)
	local := listen(t)
	go func() {
		for {
			c, err := local.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hello from the laptop\n")
			c.Close()
		}
	}()
	// From the workspace: what 127.0.0.1:P and OTHER:P answer.
	probe := func(port int) string {
		return fmt.Sprintf(`for i in $(seq 50); do if exec 3<>/dev/tcp/127.0.0.1/%[1]d; then read -r l <&3; echo "loopback=$l"; break; fi 2>/dev/null; sleep 0.1; done
if exec 4<>/dev/tcp/%[2]s/%[1]d; then read -r l <&4; echo "other=$l"; else echo other=refused; fi 2>/dev/null`, port, other)
	}
	forward := func(port int) result {
		args := append(d.sshArgs("alice", "alice-ws", "-o", "ExitOnForwardFailure=yes",
			"-R", fmt.Sprintf("0.0.0.0:%d:%s", port, local.Addr())), "bash", "-c", shellQuote(probe(port)))
		return run(t, 30*time.Second, nil, "ssh", args...)
	}

	p := freePort(t)
	r := forward(p)
	if r.code != 0 || r.stdout != "loopback=hello from the laptop\nother=refused\n" {
		t.Fatalf("default: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}

	if r := d.wsgateCLI(t, "alice", "workspaces", "settings", "set", "alice-ws", "remote-forward-bind=any"); r.code != 0 {
		t.Fatalf("settings set: %d %s", r.code, r.stderr)
	}
	p = freePort(t)
	r = forward(p)
	if r.code != 0 || r.stdout != "loopback=hello from the laptop\nother=hello from the laptop\n" {
		t.Fatalf("remote-forward-bind=any: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestTmuxPerWorkspace: two workspaces served by agents on one host as one
// OS user have separate tmux servers; sessions of one workspace share one.
func TestTmuxPerWorkspace(t *testing.T) {
	requireTool(t, "ssh")
	requireTool(t, "tmux")
	d := startDev(t)
	r := d.wsgateCLI(t, "alice", "workspaces", "create", "second", "-o", "json")
	if r.code != 0 {
		t.Fatalf("create: %d %s", r.code, r.stderr)
	}
	var created struct {
		AgentToken string `json:"agent_token"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created.AgentToken == "" {
		t.Fatalf("create output %q: %v", r.stdout, err)
	}
	startWorkspaceAgent(t, d.url, created.AgentToken, acl.WorkspaceID{Owner: "alice", Name: "second"}, filepath.Join(t.TempDir(), "second"))
	d.waitAgent(t, "alice", "second")

	tmuxDir := func(target string) string {
		r := d.sshRun(t, "alice", target, nil, `echo "$TMUX_TMPDIR"`)
		dir := strings.TrimSpace(r.stdout)
		if r.code != 0 || dir == "" {
			t.Fatalf("TMUX_TMPDIR in %s: %d %q %q", target, r.code, r.stdout, r.stderr)
		}
		return dir
	}
	one, two := tmuxDir("alice-ws"), tmuxDir("second")
	if one == two {
		t.Fatalf("both workspaces use TMUX_TMPDIR %s", one)
	}
	// Whatever happens, the tmux servers this test starts end with it.
	t.Cleanup(func() {
		for _, dir := range []string{one, two} {
			cmd := exec.Command("tmux", "kill-server")
			cmd.Env = append(os.Environ(), "TMUX_TMPDIR="+dir)
			_ = cmd.Run()
		}
	})

	if r := d.sshRun(t, "alice", "alice-ws", nil, "tmux new -d -s pair"); r.code != 0 {
		t.Fatalf("tmux new: %d %q", r.code, r.stderr)
	}
	if r := d.sshRun(t, "alice", "alice-ws", nil, "tmux ls"); r.code != 0 || !strings.Contains(r.stdout, "pair:") {
		t.Fatalf("tmux ls in the same workspace: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := d.sshRun(t, "alice", "second", nil, "tmux ls"); strings.Contains(r.stdout, "pair") {
		t.Fatalf("the other workspace sees the tmux session: %q", r.stdout)
	}
}
