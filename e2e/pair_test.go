package e2e

import (
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// pairClient is a running `wsgate pair` with its stdin and output.
type pairClient struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *testutil.Buffer
}

func (d *devEnv) startPair(t *testing.T, user string, args ...string) *pairClient {
	t.Helper()
	cmd := exec.Command(wsgateBin, append([]string{"pair", "alice-ws"}, args...)...)
	cmd.Env = append(d.cliEnv(t, user), "TERM=xterm")
	p := &pairClient{cmd: cmd, out: &testutil.Buffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return p
}

// TestPair: alice opens the workspace's pair session with `wsgate pair`,
// bob (shared at use) joins it read-only and sees what alice's shell
// printed; observing before anyone opened it says what to do.
func TestPair(t *testing.T) {
	requireTool(t, "tmux")
	d := startDev(t)
	t.Cleanup(func() { d.sshRun(t, "alice", "alice-ws", nil, "tmux kill-server") })
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %+v", r)
	}
	r := runWith(t, 30*time.Second, append(d.cliEnv(t, "bob"), "TERM=xterm"), strings.NewReader(""), wsgateBin, "pair", "alice-ws", "--read-only")
	if r.code == 0 {
		t.Fatalf("observing a pair session nobody opened: %+v", r)
	}
	mustContain(t, "stderr", r.stderr, "someone must open it with `wsgate pair alice-ws`")

	clients := func() string {
		r := d.sshRun(t, "alice", "alice-ws", nil, "tmux list-clients -t pair -F '#{client_readonly}' 2>/dev/null | sort | tr '\\n' ' '")
		return r.stdout
	}
	alice := d.startPair(t, "alice")
	testutil.WaitFor(t, 20*time.Second, "alice in the pair session", func() bool { return clients() == "0 " })
	if _, err := io.WriteString(alice.stdin, "echo shared-$((6*7))\r"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 20*time.Second, "alice's output", func() bool { return strings.Contains(alice.out.String(), "shared-42") })

	bob := d.startPair(t, "bob", "--read-only")
	testutil.WaitFor(t, 20*time.Second, "bob observing", func() bool { return clients() == "0 1 " })
	testutil.WaitFor(t, 20*time.Second, "bob sees alice's shell", func() bool { return strings.Contains(bob.out.String(), "shared-42") })
}
