package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/testutil"
)

// TestAgentCredentialTakeoverAndRotation: a copied agent token does not
// take a live workspace over — the second agent is refused with both
// addresses on record and the first keeps serving; an admin grantee cannot
// mint a new token; the owner's rotation tells live sessions why they end
// and cuts the agent still on the old token.
func TestAgentCredentialTakeoverAndRotation(t *testing.T) {
	requireTool(t, "ssh")
	dir, tokens := seedRevokeDir(t)
	d := startServer(t, dir)
	ws := acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	firstDir, secondDir := filepath.Join(dir, "first"), filepath.Join(dir, "second")
	first := startWorkspaceAgent(t, d.url, tokens[ws], ws, firstDir)
	d.waitAgent(t, "alice", "alice-ws")
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob:admin")

	// A second agent with a copy of the first one's key, as a collaborator
	// who copied it would run on their own machine (the token enrolled the
	// first agent and opens nothing any more).
	copyAgentState(t, firstDir, secondDir)
	second := startWorkspaceAgent(t, d.url, "", ws, secondDir)
	testutil.WaitFor(t, 10*time.Second, "second agent refused", func() bool {
		return strings.Contains(second.out.String(), "another agent is connected for this workspace")
	})
	for range 3 {
		r := d.sshRun(t, "alice", "alice-ws", nil, "pwd")
		if r.code != 0 || strings.TrimSpace(r.stdout) != firstDir {
			t.Fatalf("session landed in %q (exit %d, %s), want the first agent's %s", r.stdout, r.code, r.stderr, firstDir)
		}
	}
	show := d.cli(t, "alice", "workspaces", "show", "alice-ws")
	if !regexp.MustCompile(`a second agent from 127\.0\.0\.1:\d+ while the agent from 127\.0\.0\.1:\d+ is connected`).MatchString(show) {
		t.Fatalf("workspaces show does not tell the owner:\n%s", show)
	}
	second.stop(t)

	// An admin grantee may share, but not take the agent's credential.
	r := d.wsgateCLI(t, "bob", "workspaces", "rotate-agent-token", "alice/alice-ws")
	if r.code == 0 || !strings.Contains(r.stderr, "you may not") {
		t.Fatalf("admin grantee rotated the agent token: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := d.sshRun(t, "alice", "alice-ws", nil, "true"); r.code != 0 {
		t.Fatalf("refused rotation still cut the agent: %s", r.stderr)
	}

	// The owner rotates: sessions are told why, the old agent is cut and
	// stays out.
	live := d.live(t, "bob", "alice-ws")
	out := d.cli(t, "alice", "workspaces", "rotate-agent-token", "alice-ws")
	newToken := regexp.MustCompile(`wsga_[A-Za-z0-9_-]+`).FindString(out)
	if newToken == "" {
		t.Fatalf("rotate printed no token:\n%s", out)
	}
	live.expectEnded(t, "the agent of alice/alice-ws was given a new token by alice")
	testutil.WaitFor(t, 10*time.Second, "old agent cut and refused", func() bool {
		return strings.Contains(first.out.String(), "needs a new enrolment token")
	})
	r = d.sshRun(t, "alice", "alice-ws", nil, "true")
	mustContain(t, "after rotation", r.stderr, "agent not connected")

	startWorkspaceAgent(t, d.url, newToken, ws, filepath.Join(dir, "third"))
	d.waitAgent(t, "alice", "alice-ws")
}
