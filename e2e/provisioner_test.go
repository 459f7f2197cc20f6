package e2e

import (
	"context"
	"fmt"
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

// provisionerScript starts `wsgate agent` in the background on start,
// kills it on stop, and restarts it on update: what a small deployment's
// provisioner does, with the agent token it is handed.
const provisionerScript = `#!/bin/sh
set -eu
verb=$1 ws=$2
state=%[1]s/$(echo "$ws" | tr / _)
mkdir -p "$state/home"
echo "$verb" >>"$state/verbs"
stop() { if [ -f "$state/pid" ]; then kill "$(cat "$state/pid")" 2>/dev/null || true; rm -f "$state/pid"; fi; }
case $verb in
start|update)
  stop
  %[2]s agent --url "$WSGATE_AGENT_URL" --dir "$state/home" --workspace "$ws" --run-as "$(id -un)" >"$state/agent.log" 2>&1 </dev/null &
  echo $! >"$state/pid"
  echo "started agent $!" ;;
stop) stop; echo stopped ;;
needs-update) if [ -f "$state/outdated" ]; then exit 0; else exit 1; fi ;;
*) echo "unknown verb $verb" >&2; exit 2 ;;
esac
`

// TestProvisionerCommand: `wsgate workspaces start` runs --provisioner-cmd
// with a fresh agent token, the agent it starts serves SSH, and `stop`
// drops the live session with who stopped it and ends the agent.
func TestProvisionerCommand(t *testing.T) {
	requireTool(t, "ssh")
	dir := t.TempDir()
	seedServer(t, dir)
	addTokenAndStop(t, dir, "alice")
	state := t.TempDir()
	script := filepath.Join(t.TempDir(), "provision.sh")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(provisionerScript, state, wsgateBin)), 0o755); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(state, "alice_alice-ws", "pid")
	t.Cleanup(func() { // never leave an agent behind, whatever failed
		if b, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	d := startServer(t, dir, "--provisioner-cmd", script)

	if r := d.wsgateCLI(t, "alice", "workspaces", "start", "alice-ws"); r.code != 0 {
		t.Fatalf("start: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// start returned only once the agent was connected: no retry needed.
	if r := d.sshRun(t, "alice", "alice-ws", nil, "echo up"); r.code != 0 || r.stdout != "up\n" {
		t.Fatalf("ssh after start: %d %q %q", r.code, r.stdout, r.stderr)
	}
	pid := readPID(t, pidFile)

	live := d.live(t, "alice", "alice-ws")
	if r := d.wsgateCLI(t, "alice", "workspaces", "stop", "alice-ws"); r.code != 0 {
		t.Fatalf("stop: %d %s %s", r.code, r.stdout, r.stderr)
	}
	live.expectEnded(t, "workspace alice/alice-ws was stopped by alice")
	testutil.WaitFor(t, 10*time.Second, "the agent process to end", func() bool { return syscall.Kill(pid, 0) != nil })
	if r := d.wsgateCLI(t, "alice", "workspaces", "show", "alice-ws", "-o", "json"); !strings.Contains(r.stdout, `"stopped"`) {
		t.Fatalf("state after stop: %s %s", r.stdout, r.stderr)
	}
}

func readPID(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// addTokenAndStop gives user an API token in dir/users/<user>/token and
// marks alice/alice-ws stopped, before the server opens the store.
func addTokenAndStop(t testing.TB, dir, user string) {
	t.Helper()
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secret := acl.NewSecret(acl.APITokenPrefix)
	tok := acl.Token{ID: acl.NewID(), User: user, Name: "e2e", Hash: acl.HashToken(secret), CreatedAt: time.Now()}
	if err := st.CreateToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if err := st.SetWorkspaceState(context.Background(), acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}, acl.StateStopped); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users", user, "token"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
