package e2e

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// TestShareThenConnect: bob is refused until alice shares alice-ws with him,
// then gets in with stock ssh.
func TestShareThenConnect(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)
	if r := d.sshRun(t, "bob", "alice-ws", nil, "true"); r.code == 0 {
		t.Fatal("bob got in before the share")
	}
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r := d.sshRun(t, "bob", "alice-ws", nil, `echo "$WSGATE_USER in $WSGATE_WORKSPACE"`)
	if r.code != 0 || r.stdout != "bob in alice/alice-ws\n" {
		t.Fatalf("bob after share: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// carol reaches it through her group once the group is shared.
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--group", "contractor"); r.code != 0 {
		t.Fatalf("share group: %d %s", r.code, r.stderr)
	}
	if r := d.sshRun(t, "carol", "alice-ws", nil, "true"); r.code != 0 {
		t.Fatalf("carol via group: %d %q", r.code, r.stderr)
	}
}

// TestPairTmux: alice and bob attach to one tmux session through the
// gateway and each sees what the other types.
func TestPairTmux(t *testing.T) {
	requireTool(t, "ssh")
	requireTool(t, "tmux")
	d := startDev(t)
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %d %s", r.code, r.stderr)
	}
	// A private tmux socket keeps the test away from any tmux of the host.
	sock := t.TempDir() + "/tmux.sock"
	attach := func(user string) (io.WriteCloser, *testutil.Buffer, *exec.Cmd) {
		cmd := exec.Command("ssh", append(d.sshArgs(user, "alice-ws", "-tt"), "tmux -S "+sock+" new-session -A -s pair")...)
		cmd.Env = append(os.Environ(), "TERM=xterm")
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out := &testutil.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
		return in, out, cmd
	}
	aliceIn, aliceOut, _ := attach("alice")
	testutil.WaitFor(t, 15*time.Second, "alice's tmux", func() bool {
		return exec.Command("tmux", "-S", sock, "has-session", "-t", "pair").Run() == nil
	})
	bobIn, bobOut, _ := attach("bob")
	testutil.WaitFor(t, 15*time.Second, "bob attached", func() bool {
		out, _ := exec.Command("tmux", "-S", sock, "list-clients", "-t", "pair").Output()
		return strings.Count(string(out), "\n") >= 2
	})

	// What alice types shows on bob's screen, and the other way round.
	io.WriteString(aliceIn, "echo typed-by-$((20+22))-alice\r")
	testutil.WaitFor(t, 15*time.Second, "alice's typing on bob's screen", func() bool {
		return strings.Contains(bobOut.String(), "typed-by-42-alice")
	})
	io.WriteString(bobIn, "echo typed-by-$((30+3))-bob\r")
	testutil.WaitFor(t, 15*time.Second, "bob's typing on alice's screen", func() bool {
		return strings.Contains(aliceOut.String(), "typed-by-33-bob")
	})
	exec.Command("tmux", "-S", sock, "kill-server").Run()
}
