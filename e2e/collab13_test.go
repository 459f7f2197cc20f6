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

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/internal/testutil"
)

// TestTransferKeepNone: an automation account's workspace handed to bob
// (the agentbot case, with alice as the automation): alice keeps
// nothing, so her live OpenSSH session ends with the reason; bob's live
// session (as an admin grantee) stays; bob, the owner now, shares with
// Coder's `sharing add` and deletes it.
func TestTransferKeepNone(t *testing.T) {
	requireTool(t, "ssh")
	d := startRevokeServer(t)
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob:admin")
	alice := d.live(t, "alice", "alice-ws")
	bob := d.live(t, "bob", "alice/alice-ws")
	start := time.Now()
	out := d.cli(t, "alice", "workspaces", "transfer", "alice-ws", "--to", "bob", "--keep-access", "none")
	mustContain(t, "transfer output", out, "it is now bob/alice-ws; alice keeps no access")
	alice.expectDropped(t, start, "workspace alice/alice-ws was transferred to bob; you no longer have access to it")
	bob.expectAlive(t)
	// The agent stayed: bob reaches it under its new name, alice not at all.
	if r := d.sshRun(t, "bob", "alice-ws", nil, "echo in"); r.code != 0 || r.stdout != "in\n" {
		t.Fatalf("bob after the transfer: %+v", r)
	}
	if r := d.sshRun(t, "alice", "bob/alice-ws", nil, "true"); r.code == 0 {
		t.Fatal("alice still gets in")
	}
	// bob shares (Coder's form) and carol gets in; `sharing status` shows it.
	d.cli(t, "bob", "sharing", "add", "alice-ws", "--user", "carol")
	if r := d.sshRun(t, "carol", "bob/alice-ws", nil, "echo in"); r.stdout != "in\n" {
		t.Fatalf("carol after bob's share: %+v", r)
	}
	mustContain(t, "sharing status", d.cli(t, "bob", "sharing", "status", "alice-ws"), "carol")
	bob.stop()
	d.cli(t, "bob", "workspaces", "delete", "-y", "alice-ws")
	if r := d.wsgateCLI(t, "bob", "workspaces", "show", "alice-ws"); r.code == 0 {
		t.Fatalf("deleted workspace still shown: %s", r.stdout)
	}
}

// TestTransferKeepUse: alice keeps use: her live session stays, she
// connects again under the new name, and may no longer delete it.
func TestTransferKeepUse(t *testing.T) {
	requireTool(t, "ssh")
	d := startRevokeServer(t)
	alice := d.live(t, "alice", "alice-ws")
	d.cli(t, "alice", "workspaces", "transfer", "alice-ws", "--to", "bob", "--keep-access", "use")
	if r := d.sshRun(t, "alice", "bob/alice-ws", nil, "echo in"); r.stdout != "in\n" {
		t.Fatalf("alice at use: %+v", r)
	}
	alice.expectAlive(t)
	if r := d.wsgateCLI(t, "alice", "workspaces", "delete", "-y", "bob/alice-ws"); r.code == 0 {
		t.Fatal("alice at use deleted bob's workspace")
	}
	if got := d.cli(t, "alice", "list", "--shared", "-c", "workspace,role"); !strings.Contains(got, "bob/alice-ws") || !strings.Contains(got, "use") {
		t.Fatalf("alice's list: %s", got)
	}
	alice.expectAlive(t)
	alice.stop()
}

// TestRenameByAdminKeepsSessions: an admin grantee's rename keeps every
// live session, the owner's included.
func TestRenameByAdminKeepsSessions(t *testing.T) {
	requireTool(t, "ssh")
	d := startRevokeServer(t)
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob:admin")
	alice := d.live(t, "alice", "alice-ws")
	bob := d.live(t, "bob", "alice/alice-ws")
	d.cli(t, "bob", "workspaces", "rename", "alice/alice-ws", "renamed-ws")
	if r := d.sshRun(t, "bob", "alice/renamed-ws", nil, "echo in"); r.stdout != "in\n" {
		t.Fatalf("bob after the rename: %+v", r)
	}
	alice.expectAlive(t)
	bob.expectAlive(t)
	alice.stop()
	bob.stop()
}

// TestUpdateRequiredForUseGrantee: with a provisioner that answers
// needs-update, a `use` grantee may update exactly while an update is
// required, and their start updates first; a site admin's mark-outdated
// does the same by hand; `list` shows it.
func TestUpdateRequiredForUseGrantee(t *testing.T) {
	requireTool(t, "ssh")
	dir, _ := seedRevokeDir(t)
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	id := acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	if err := st.SetWorkspaceState(t.Context(), id, acl.StateStopped); err != nil {
		t.Fatal(err)
	}
	st.Close()
	state := t.TempDir()
	script := filepath.Join(t.TempDir(), "provision.sh")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(provisionerScript, state, wsgateBin)), 0o755); err != nil {
		t.Fatal(err)
	}
	wsState := filepath.Join(state, "alice_alice-ws")
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(wsState, "pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	d := startServer(t, dir, "--provisioner-cmd", script)
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob")
	d.cli(t, "bob", "workspaces", "start", "alice/alice-ws")
	if r := d.sshRun(t, "bob", "alice-ws", nil, "echo up"); r.stdout != "up\n" {
		t.Fatalf("bob after start: %+v", r)
	}
	// No update required: bob, at use, may not update.
	r := d.wsgateCLI(t, "bob", "workspaces", "update", "alice/alice-ws")
	if r.code == 0 || !strings.Contains(r.stderr, "that needs the admin role, and yours is use") {
		t.Fatalf("bob's update while none is required: %+v", r)
	}
	// The provisioner says one is required: bob may, once.
	if err := os.WriteFile(filepath.Join(wsState, "outdated"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	oldPID := readPID(t, filepath.Join(wsState, "pid"))
	d.cli(t, "bob", "workspaces", "update", "alice/alice-ws")
	if readPID(t, filepath.Join(wsState, "pid")) == oldPID {
		t.Fatal("update did not restart the agent")
	}
	os.Remove(filepath.Join(wsState, "outdated"))
	if r := d.sshRun(t, "bob", "alice-ws", nil, "echo up"); r.stdout != "up\n" {
		t.Fatalf("bob after his update: %+v", r)
	}
	// A site admin marks it by hand; list shows it; bob's start updates.
	d.cli(t, "bob", "workspaces", "stop", "alice/alice-ws")
	d.cli(t, "root", "workspaces", "mark-outdated", "alice/alice-ws")
	mustContain(t, "bob's list", d.cli(t, "bob", "list", "--shared"), "stopped (update required)")
	d.cli(t, "bob", "workspaces", "start", "alice/alice-ws")
	verbs, err := os.ReadFile(filepath.Join(wsState, "verbs"))
	if err != nil {
		t.Fatal(err)
	}
	// Every start and update asks first (a refused update too); the hand
	// mark answers without asking, and bob's last start ran update.
	want := "needs-update start needs-update needs-update update stop update"
	if got := strings.Fields(string(verbs)); strings.Join(got, " ") != want {
		t.Fatalf("provisioner calls %q", got)
	}
	if got := d.cli(t, "bob", "list", "--shared", "-c", "workspace,update-required"); !strings.Contains(got, "no") {
		t.Fatalf("mark not cleared by the start's update: %s", got)
	}
	testutil.WaitFor(t, 10*time.Second, "bob reaches it", func() bool {
		return d.sshRun(t, "bob", "alice-ws", nil, "true").code == 0
	})
}
