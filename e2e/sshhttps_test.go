package e2e

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/testutil"
)

// proxySSHArgs are OpenSSH arguments that reach target through
// `wsgate ssh --stdio` instead of the SSH port. keyUser's key is offered
// (it must not matter); the host key is pinned for the alias "gw".
func (d *devEnv) proxySSHArgs(t testing.TB, keyUser, target string, command ...string) []string {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(d.dir, "host_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("gw "+string(pub)), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"-F", "/dev/null",
		"-i", d.key(keyUser),
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "UserKnownHostsFile=" + kh,
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "LogLevel=ERROR",
		"-o", "ProxyCommand=" + wsgateBin + " ssh --stdio %h",
		"-l", target, "gw",
	}
	return append(args, command...)
}

// runProxySSH runs OpenSSH through the ProxyCommand with user's API token.
func (d *devEnv) runProxySSH(t testing.TB, tokenUser, keyUser, target string, stdin io.Reader, command ...string) result {
	t.Helper()
	return runWith(t, 60*time.Second, d.cliEnv(t, tokenUser), stdin, "ssh", d.proxySSHArgs(t, keyUser, target, command...)...)
}

// TestOpenSSHThroughStdioProxy: stock ssh with `wsgate ssh --stdio %h` as
// ProxyCommand reaches the workspace as the token's user, whatever key it
// offers, and stdin's EOF crosses the proxy.
func TestOpenSSHThroughStdioProxy(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)

	r := d.runProxySSH(t, "alice", "alice", "alice-ws", nil, "echo hi $WSGATE_USER")
	if r.code != 0 || r.stdout != "hi alice\n" {
		t.Fatalf("alice via proxy: %+v", r)
	}
	// bob's key with alice's token is still alice.
	r = d.runProxySSH(t, "alice", "bob", "alice-ws", nil, "echo $WSGATE_USER")
	if r.code != 0 || r.stdout != "alice\n" {
		t.Fatalf("alice's token, bob's key: %+v", r)
	}
	// 1 MiB through stdin: cat ends only if the EOF crossed.
	payload := strings.Repeat("0123456789abcdef", 1<<16)
	r = d.runProxySSH(t, "alice", "alice", "alice-ws", strings.NewReader(payload), "wc -c")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "1048576" {
		t.Fatalf("wc -c through the proxy: %+v", r)
	}
	if r := d.runProxySSH(t, "alice", "alice", "alice-ws", nil, "exit 7"); r.code != 7 {
		t.Fatalf("exit 7: %+v", r)
	}

	// A wrong token: the proxy says why and ssh fails.
	r = d.runProxySSH(t, "", "alice", "alice-ws", nil, "true")
	if r.code == 0 || !strings.Contains(r.stderr, "unauthorized: missing, invalid or expired API token") {
		t.Fatalf("wrong token: %+v", r)
	}
	// bob without a share reads what the SSH port tells him.
	// Refused during authentication: OpenSSH prints the banner at its
	// default LogLevel.
	args := d.proxySSHArgs(t, "bob", "alice-ws", "true")
	args[slices.Index(args, "LogLevel=ERROR")] = "LogLevel=INFO"
	viaProxy := runWith(t, 60*time.Second, d.cliEnv(t, "bob"), nil, "ssh", args...)
	viaPort := d.sshRunLoud(t, "bob", "alice-ws", "true")
	const denied = `wsgate: workspace "alice-ws" not found or access denied` + "\n"
	if viaProxy.code != 255 || viaPort.code != 255 || !strings.HasPrefix(viaProxy.stderr, denied) || !strings.HasPrefix(viaPort.stderr, denied) {
		t.Fatalf("bob without share: proxy %+v, port %+v", viaProxy, viaPort)
	}
}

// TestWsgateSSH: `wsgate ssh <ws> [command]` runs commands with stdin
// wired, passes the exit status through and refuses like the SSH port.
func TestWsgateSSH(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)

	if r := d.wsgateAs(t, "alice", nil, "ssh", "alice-ws", "echo", "hi", "there"); r.code != 0 || r.stdout != "hi there\n" {
		t.Fatalf("echo: %+v", r)
	}
	if r := d.wsgateAs(t, "alice", nil, "ssh", "alice/alice-ws", "exit 7"); r.code != 7 || r.stderr != "" {
		t.Fatalf("exit 7: %+v", r)
	}
	if r := d.wsgateAs(t, "alice", strings.NewReader("12345"), "ssh", "alice-ws", "wc", "-c"); r.code != 0 || strings.TrimSpace(r.stdout) != "5" {
		t.Fatalf("stdin: %+v", r)
	}
	if r := d.wsgateAs(t, "alice", nil, "ssh", "alice-ws", "echo out; echo err >&2"); r.stdout != "out\n" || r.stderr != "err\n" {
		t.Fatalf("stdout and stderr: %+v", r)
	}
	if r := d.wsgateAs(t, "alice", nil, "ssh", "alice-ws", "kill -TERM $$"); r.code != 128+15 {
		t.Fatalf("killed by TERM: %+v", r)
	}
	// Without a command and without a terminal: a shell reading stdin.
	if r := d.wsgateAs(t, "alice", strings.NewReader("echo from-shell\n"), "ssh", "alice-ws"); r.code != 0 || r.stdout != "from-shell\n" {
		t.Fatalf("shell on stdin: %+v", r)
	}

	r := d.wsgateAs(t, "", nil, "ssh", "alice-ws", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "unauthorized: missing, invalid or expired API token") || !strings.Contains(r.stderr, "wsgate login") {
		t.Fatalf("wrong token: %+v", r)
	}
	// Refused during authentication with the line OpenSSH prints, and
	// OpenSSH's exit status.
	viaHTTPS := d.wsgateAs(t, "bob", nil, "ssh", "alice-ws", "true")
	viaPort := d.sshRunLoud(t, "bob", "alice-ws", "true")
	const denied = `wsgate: workspace "alice-ws" not found or access denied` + "\n"
	if viaHTTPS.code != 255 || viaHTTPS.stderr != denied || viaPort.code != 255 || !strings.HasPrefix(viaPort.stderr, denied) {
		t.Fatalf("bob without share: https %+v, port %+v", viaHTTPS, viaPort)
	}
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %+v", r)
	}
	if r := d.wsgateAs(t, "bob", nil, "ssh", "alice-ws", "echo $WSGATE_USER"); r.code != 0 || r.stdout != "bob\n" {
		t.Fatalf("bob after share: %+v", r)
	}
}

// TestWsgateSSHTerminal: on a terminal, `wsgate ssh <ws>` gives a shell
// with a pty of the local size, follows resizes, and exits with the
// shell's status.
func TestWsgateSSHTerminal(t *testing.T) {
	d := startDev(t)
	cmd := exec.Command(wsgateBin, "ssh", "alice-ws")
	cmd.Env = append(d.cliEnv(t, "alice"), "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := &testutil.Buffer{}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(out, f) // ends with EIO once wsgate is gone
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
		f.Close()
		<-copied
		if t.Failed() {
			t.Logf("terminal output:\n%q", out.String())
		}
	})

	type_ := func(s string) {
		if _, err := io.WriteString(f, s); err != nil {
			t.Fatal(err)
		}
	}
	type_("stty size; test -t 0 && echo tty-$((40+2))\r")
	testutil.WaitFor(t, 20*time.Second, "the remote shell's size and tty", func() bool {
		s := out.String()
		return strings.Contains(s, "30 100") && strings.Contains(s, "tty-42")
	})

	if err := pty.Setsize(f, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	// The resize travels as SIGWINCH → window-change, asynchronously: ask
	// again until the shell reports it.
	deadline := time.Now().Add(20 * time.Second)
	var asked time.Time
	for ; !strings.Contains(out.String(), "40 120"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the remote terminal never saw the resize")
		}
		if time.Since(asked) > time.Second {
			type_("stty size\r")
			asked = time.Now()
		}
	}

	type_("exit 3\r")
	select {
	case err := <-exited:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 3 {
			t.Fatalf("wsgate ssh ended with %v, want exit status 3", err)
		}
		exited <- err
	case <-time.After(20 * time.Second):
		t.Fatal("wsgate ssh did not exit after the shell did")
	}
}

// TestWorkspaceStatsLogsConnections: the CLI shows who is connected, the
// agent's stats and its logs, to users with at least `use`.
func TestWorkspaceStatsLogsConnections(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %+v", r)
	}
	// alice over the SSH port, bob over HTTPS, each with a long command.
	background := func(name string, args []string, env []string) {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	}
	background("ssh", append(d.sshArgs("alice", "alice-ws"), "cat"), os.Environ())
	background(wsgateBin, []string{"ssh", "alice-ws", "cat"}, d.cliEnv(t, "bob"))

	var stats apitypes.AgentStats
	testutil.WaitFor(t, 20*time.Second, "both sessions in the stats", func() bool {
		r := d.wsgateCLI(t, "bob", "workspaces", "stats", "alice/alice-ws", "-o", "json")
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &stats) == nil && stats.Sessions == 2
	})
	if stats.Connections != 2 || len(stats.Users) != 2 || stats.Users[0].Name != "alice" || stats.Users[1].Name != "bob" ||
		stats.BytesIn == 0 || stats.UptimeSeconds <= 0 {
		t.Fatalf("stats: %+v", stats)
	}
	r := d.wsgateCLI(t, "alice", "workspaces", "stats", "alice-ws")
	for _, want := range []string{"WORKSPACE    alice/alice-ws", "CONNECTIONS  2", "SESSIONS     2", "USER", "alice", "bob"} {
		mustContain(t, "stats table", r.stdout, want)
	}

	var conns []apitypes.Connection
	r = d.wsgateCLI(t, "alice", "workspaces", "connections", "alice-ws", "-o", "json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &conns) != nil || len(conns) != 2 {
		t.Fatalf("connections: %+v", r)
	}
	via := map[string]string{}
	for _, c := range conns {
		via[c.User] = c.Via
	}
	if via["alice"] != "ssh" || via["bob"] != "https" {
		t.Fatalf("connections: %+v", conns)
	}
	r = d.wsgateCLI(t, "bob", "workspaces", "connections", "alice/alice-ws")
	mustContain(t, "connections table", r.stdout, "USER   VIA")
	mustContain(t, "connections table", r.stdout, "https")

	r = d.wsgateCLI(t, "alice", "workspaces", "logs", "alice-ws", "-n", "3")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 3 {
		t.Fatalf("logs -n 3: %+v", r)
	}
	var logs apitypes.AgentLogs
	r = d.wsgateCLI(t, "bob", "workspaces", "logs", "alice/alice-ws", "-o", "json")
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &logs) != nil || !strings.Contains(strings.Join(logs.Lines, "\n"), "user=bob") {
		t.Fatalf("logs as bob: %+v", r)
	}

	// carol has no share: the workspace does not exist for her.
	for _, sub := range []string{"stats", "logs", "connections"} {
		r := d.wsgateCLI(t, "carol", "workspaces", sub, "alice/alice-ws")
		if r.code == 0 || !strings.Contains(r.stderr, "not found") {
			t.Fatalf("carol %s: %+v", sub, r)
		}
	}
	// A stopped workspace has no agent to ask.
	if r := d.wsgateCLI(t, "alice", "workspaces", "stop", "alice-ws"); r.code != 0 {
		t.Fatalf("stop: %+v", r)
	}
	r = d.wsgateCLI(t, "alice", "workspaces", "stats", "alice-ws")
	if r.code == 0 || !strings.Contains(r.stderr, "workspace alice/alice-ws is not running: its agent is not connected") {
		t.Fatalf("stats of a stopped workspace: %+v", r)
	}
}

// TestConfigSSHUseHTTPS: `config-ssh --use-https` writes entries that reach
// the workspace through `wsgate ssh --stdio`, so `ssh alice-ws.coder` works
// with the API token alone.
func TestConfigSSHUseHTTPS(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %+v", r)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	r := d.wsgateAs(t, "bob", nil, "config-ssh", "--use-https", "-y", "--ssh-config-file", cfg)
	if r.code != 0 {
		t.Fatalf("config-ssh: %+v", r)
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, "ssh config", string(b), "  ProxyCommand "+wsgateBin+" ssh --stdio %h\n")
	if strings.Contains(string(b), "Port ") {
		t.Fatalf("entries still name the SSH port:\n%s", b)
	}
	// The host key comes from the known_hosts file config-ssh wrote,
	// under the entries' HostKeyAlias: no alias asks to trust it.
	for _, host := range []string{"alice-ws.coder", "alice--alice-ws.coder"} {
		cmd := exec.Command("ssh", "-F", cfg, "-o", "StrictHostKeyChecking=yes",
			"-o", "BatchMode=yes", "-o", "IdentityAgent=none", "-o", "IdentitiesOnly=yes", host, "echo $WSGATE_USER in $WSGATE_WORKSPACE")
		cmd.Env = d.cliEnv(t, "bob")
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "bob in alice/alice-ws\n" {
			t.Fatalf("ssh %s through the written entry: %v\n%s", host, err, out)
		}
	}
}
