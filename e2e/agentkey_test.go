package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/agent/agentkey"
	"github.com/wsgate/wsgate/internal/testutil"
)

// agentKeyEnv is a server with alice/alice-ws and its agent enrolled.
type agentKeyEnv struct {
	d      *devEnv
	dir    string
	ws     acl.WorkspaceID
	wsDir  string
	agent  *proc
	tokens map[acl.WorkspaceID]string
}

func newAgentKeyEnv(t *testing.T) *agentKeyEnv {
	t.Helper()
	requireTool(t, "ssh")
	dir, tokens := seedRevokeDir(t)
	e := &agentKeyEnv{d: startServer(t, dir), dir: dir, ws: acl.WorkspaceID{Owner: "alice", Name: "alice-ws"},
		wsDir: filepath.Join(dir, "ws"), tokens: tokens}
	e.agent = startWorkspaceAgent(t, e.d.url, tokens[e.ws], e.ws, e.wsDir)
	e.d.waitAgent(t, "alice", "alice-ws")
	return e
}

// keyFile is the agent of wsDir's state file.
func keyFile(wsDir string) string {
	return filepath.Join(agentStateDir(wsDir), agentkey.FileName("alice/alice-ws"))
}

// copyAgentState copies the agent of from's state file (its key) to to's,
// as a collaborator who read it would.
func copyAgentState(t testing.TB, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(keyFile(from))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(agentStateDir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile(to), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAgentEnrolmentTokenWorksOnce: the token enrolled the agent; a second
// agent with the same token is refused, the first keeps serving; the key
// file is the agent's alone (0600) and holds the workspace's UID.
func TestAgentEnrolmentTokenWorksOnce(t *testing.T) {
	e := newAgentKeyEnv(t)
	fi, err := os.Stat(keyFile(e.wsDir))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	second := startWorkspaceAgent(t, e.d.url, e.tokens[e.ws], e.ws, filepath.Join(e.dir, "second"))
	testutil.WaitFor(t, 10*time.Second, "second enrolment refused", func() bool {
		return strings.Contains(second.out.String(), "the gateway refused the enrolment token")
	})
	if r := e.d.sshRun(t, "alice", "alice-ws", nil, "pwd"); r.code != 0 || strings.TrimSpace(r.stdout) != e.wsDir {
		t.Fatalf("session landed in %q (exit %d, %s), want the enrolled agent's %s", r.stdout, r.code, r.stderr, e.wsDir)
	}
	mustContain(t, "gateway log", e.d.proc.out.String(), "enrolment token")
}

// TestAgentRestartWithoutToken: an agent restarted without its token
// signs with its key and serves again.
func TestAgentRestartWithoutToken(t *testing.T) {
	e := newAgentKeyEnv(t)
	e.agent.stop(t)
	again := startWorkspaceAgent(t, e.d.url, "", e.ws, e.wsDir)
	e.d.waitAgent(t, "alice", "alice-ws")
	again.stop(t)
	// And with the token it enrolled with (a unit that keeps passing it):
	// it signs, no second enrolment is attempted.
	third := startWorkspaceAgent(t, e.d.url, e.tokens[e.ws], e.ws, e.wsDir)
	e.d.waitAgent(t, "alice", "alice-ws")
	if strings.Contains(third.out.String(), "enrol") {
		t.Fatalf("the restarted agent enrolled again:\n%s", third.out)
	}
}

// TestCopiedAgentKeyUselessAfterRevoke: bob has a session and copies the
// agent's key; alice removes bob's share; the agent rotated its key over
// its tunnel, so the copy is refused while the real agent serves alice.
func TestCopiedAgentKeyUselessAfterRevoke(t *testing.T) {
	e := newAgentKeyEnv(t)
	e.d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob:use")
	live := e.d.live(t, "bob", "alice/alice-ws")
	stolen := filepath.Join(e.dir, "stolen")
	copyAgentState(t, e.wsDir, stolen)

	e.d.cli(t, "alice", "sharing", "remove", "alice-ws", "--user", "bob")
	live.expectEnded(t, "access to alice/alice-ws was revoked")
	testutil.WaitFor(t, 10*time.Second, "agent key rotated", func() bool {
		return strings.Contains(e.d.proc.out.String(), "agent key rotated")
	})
	// The real agent still serves alice, and it reconnects with its new
	// key (the tunnel is cut here to prove it).
	if r := e.d.sshRun(t, "alice", "alice-ws", nil, "true"); r.code != 0 {
		t.Fatalf("alice after the rotation: %s", r.stderr)
	}
	e.agent.stop(t)
	thief := startWorkspaceAgent(t, e.d.url, "", e.ws, stolen)
	testutil.WaitFor(t, 10*time.Second, "copied key refused", func() bool {
		return strings.Contains(thief.out.String(), "needs a new enrolment token")
	})
	// The gateway logs the reason as it answers; the agent may print first.
	testutil.WaitFor(t, 10*time.Second, "the gateway's log of the wrong signature", func() bool {
		return strings.Contains(e.d.proc.out.String(), "wrong signature")
	})
	startWorkspaceAgent(t, e.d.url, "", e.ws, e.wsDir)
	e.d.waitAgent(t, "alice", "alice-ws")
}

// TestAgentOfflineAtRevokeNeedsNewToken: with the agent away when bob
// loses access, its key is revoked: it cannot come back on its own, says
// so, and so does `workspaces show`; a new token from the owner brings it
// back.
func TestAgentOfflineAtRevokeNeedsNewToken(t *testing.T) {
	e := newAgentKeyEnv(t)
	e.d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob:use")
	if r := e.d.sshRun(t, "bob", "alice/alice-ws", nil, "true"); r.code != 0 {
		t.Fatalf("bob's session: %s", r.stderr)
	}
	e.agent.stop(t)
	e.d.cli(t, "alice", "sharing", "remove", "alice-ws", "--user", "bob")
	testutil.WaitFor(t, 15*time.Second, "workspaces show says the key was revoked", func() bool {
		return strings.Contains(e.d.cli(t, "alice", "workspaces", "show", "alice-ws"), "needs a new enrolment token")
	})
	again := startWorkspaceAgent(t, e.d.url, "", e.ws, e.wsDir)
	select {
	case <-again.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the agent with a revoked key did not exit:\n%s", again.out)
	}
	mustContain(t, "agent output", again.out.String(), "needs a new enrolment token")

	out := e.d.cli(t, "alice", "workspaces", "rotate-agent-token", "alice-ws")
	newToken := regexp.MustCompile(`wsga_[A-Za-z0-9_-]+`).FindString(out)
	if newToken == "" {
		t.Fatalf("rotate printed no token:\n%s", out)
	}
	startWorkspaceAgent(t, e.d.url, newToken, e.ws, e.wsDir)
	e.d.waitAgent(t, "alice", "alice-ws")
	if show := e.d.cli(t, "alice", "workspaces", "show", "alice-ws"); strings.Contains(show, "needs a new enrolment token") {
		t.Fatalf("still revoked after re-enrolment:\n%s", show)
	}
}
