package gateway

import (
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/internal/testutil"
)

// msgStoreUnavailable is what users are told while the store cannot be
// asked.
const msgStoreUnavailable = "wsgate: cannot check access right now: the access store is unreachable; try again later"

// withGrace sets the access store grace.
func withGrace(d time.Duration) envOption {
	return func(c *envConfig) { c.access.StoreGrace = d }
}

// storeOutage brings up a gateway whose store can fail, with alice's live
// session on her workspace and bob having connected once (so his identity
// and access are cached), and then cuts the store off.
func storeOutage(t *testing.T, mode LockMode, grace time.Duration) (*testEnv, *flakyStore, *liveCmd) {
	t.Helper()
	var fs *flakyStore
	e := newEnv(t, withFlakyStore(&fs), withGrace(grace))
	e.startAgent("alice/alice-ws")
	e.startRevoker(revoke.Config{LockMode: mode, ProbeInterval: 20 * time.Millisecond})
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	alice := startLive(t, e.mustDial("alice", "alice-ws"))
	if r := run(t, e.mustDial("bob", "alice/alice-ws"), "echo in", nil); r.stdout != "in\n" {
		t.Fatalf("bob before the outage: %+v", r)
	}
	fs.down.Store(true)
	testutil.Eventually(t, "outage noticed", func() bool { return e.access.Down() })
	return e, fs, alice
}

// TestStoreGraceBestEffort: while the store is unreachable, known users
// are let in from the cache for the grace, unknown ones are refused with
// a clear message; after the grace everyone new is refused, live sessions
// stay (best_effort), and the store's return lets people in again.
func TestStoreGraceBestEffort(t *testing.T) {
	grace := 1500 * time.Millisecond
	e, fs, alice := storeOutage(t, LockBestEffort, grace)
	if r := run(t, e.mustDial("bob", "alice/alice-ws"), "echo in", nil); r.stdout != "in\n" {
		t.Fatalf("bob within the grace: %+v", r)
	}
	e.refusedWith("carol", "alice/alice-ws", msgStoreUnavailable)

	testutil.Eventually(t, "grace over", func() bool { return e.access.SinceContact() > grace })
	e.refusedWith("bob", "alice/alice-ws", msgStoreUnavailable)
	alice.expectAlive(t, "alice after the grace")

	fs.down.Store(false)
	testutil.Eventually(t, "store back", func() bool { return !e.access.Down() })
	if r := run(t, e.mustDial("bob", "alice/alice-ws"), "echo in", nil); r.stdout != "in\n" {
		t.Fatalf("bob after the outage: %+v", r)
	}
	alice.expectAlive(t, "alice after the outage")
}

// TestStoreGraceStrict: in strict mode live sessions are dropped, with the
// reason, once the grace has passed without store contact.
func TestStoreGraceStrict(t *testing.T) {
	grace := 300 * time.Millisecond
	e, _, alice := storeOutage(t, LockStrict, grace)
	start := time.Now()
	alice.expectDropped(t, "alice", "access can no longer be checked: the access store is unreachable")
	if d := time.Since(start); d < grace-50*time.Millisecond {
		t.Fatalf("dropped %v into the outage, before the %v grace", d, grace)
	}
	if e.access.SinceContact() <= grace {
		t.Fatalf("dropped with the last contact %v ago, within the grace", e.access.SinceContact())
	}
	e.refusedWith("bob", "alice/alice-ws", msgStoreUnavailable)
}

// TestStoreUnavailableKeyLookup: a key the gateway has never seen cannot be
// identified while the store is down; the client still gets a clear line.
func TestStoreUnavailableKeyLookup(t *testing.T) {
	var fs *flakyStore
	e := newEnv(t, withFlakyStore(&fs))
	e.startAgent("alice/alice-ws")
	fs.down.Store(true)
	e.refusedWith("alice", "alice-ws", msgStoreUnavailable)
	// Unknown keys stay unknown: a refused key is not a foothold.
	c, err := e.dialWith("alice-ws", ssh.PublicKeys(testutil.NewSigner(t)))
	if err == nil {
		if r := run(t, c, "echo in", nil); r.stdout != "" {
			t.Fatalf("unknown key got in: %+v", r)
		}
	}
}

// TestStoreGraceTokens: the HTTPS path identifies users by API token the
// same way the front door does by key: a token seen before the outage
// works for the grace, an unseen one is refused.
func TestStoreGraceTokens(t *testing.T) {
	var fs *flakyStore
	e := newEnv(t, withFlakyStore(&fs))
	e.startAgent("alice/alice-ws")
	e.startRevoker(revoke.Config{LockMode: LockBestEffort, ProbeInterval: 20 * time.Millisecond})
	hs := e.upgradeServer(false)
	seen, _ := e.apiToken("alice")
	unseen, _ := e.apiToken("alice")
	if r := run(t, e.mustDialHTTPS(hs, seen, "alice-ws"), "echo in", nil); r.stdout != "in\n" {
		t.Fatalf("before the outage: %+v", r)
	}
	fs.down.Store(true)
	testutil.Eventually(t, "outage noticed", func() bool { return e.access.Down() })
	if r := run(t, e.mustDialHTTPS(hs, seen, "alice-ws"), "echo in", nil); r.stdout != "in\n" {
		t.Fatalf("known token within the grace: %+v", r)
	}
	if _, err := e.dialHTTPS(hs, unseen, "alice-ws"); err == nil {
		t.Fatal("a token never seen was let in while the store was down")
	}
}
