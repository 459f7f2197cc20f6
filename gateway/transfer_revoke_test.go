package gateway

import (
	"context"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/testutil"
)

// TestTransferredOwnerIsAGrantee: after a transfer the old owner's live
// session rests on the grant they kept, like anyone's, though it opened
// while they owned the workspace: disabling sharing ends it, and the new
// owner's session (opened as a grantee) stays.
func TestTransferredOwnerIsAGrantee(t *testing.T) {
	ctx := context.Background()
	e, _, w := newBobSharedEnv(t)
	live := map[string]*liveCmd{}
	for name, c := range map[string]*ssh.Client{
		"alice": e.mustDial("alice", "alice-ws"),
		"bob":   e.mustDial("bob", "alice/alice-ws"),
	} {
		live[name] = startLive(t, c)
	}
	must(t, e.store.TransferWorkspace(ctx, aliceWS, "bob", acl.RoleUse))
	w.sync()
	live["alice"].expectAlive(t, "alice after the transfer")
	live["bob"].expectAlive(t, "bob after the transfer")

	must(t, e.store.SetSettings(ctx, acl.Settings{SharingDisabled: true}))
	w.sync()
	live["alice"].expectDropped(t, "alice", "workspace sharing was disabled")
	live["bob"].expectAlive(t, "bob, the owner now")
	testutil.Eventually(t, "registry matches", func() bool { return e.sessions.Len() == 1 })
}
