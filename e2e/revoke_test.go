package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
)

// startRevokeServer seeds the revocation world into a file store and runs
// `wsgate server` on it with alice-ws's agent as its own process.
func startRevokeServer(t *testing.T) *devEnv {
	t.Helper()
	dir, tokens := seedRevokeDir(t)
	d := startServer(t, dir)
	ws := acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	startWorkspaceAgent(t, d.url, tokens[ws], ws, filepath.Join(dir, "ws"))
	d.waitAgent(t, "alice", "alice-ws")
	return d
}

// TestRevokeDropsLiveSessions: real ssh sessions end within a second of
// each kind of revocation, showing why, while sessions that keep their
// access are untouched. The cases run in order on one server, each
// restoring what it took away.
func TestRevokeDropsLiveSessions(t *testing.T) {
	requireTool(t, "ssh")
	d := startRevokeServer(t)
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob")
	revoked := "access to alice/alice-ws was revoked"

	// each starts alice's and the victim's sessions, runs write, and checks
	// that only the victim's ended, with msg.
	each := func(t *testing.T, victim, target, msg string, write func()) {
		t.Helper()
		alice := d.live(t, "alice", "alice-ws")
		v := d.live(t, victim, target)
		start := time.Now()
		write()
		v.expectDropped(t, start, msg)
		// A fresh session after the drop gives any wrong drop of the same
		// event the time to land before alice's is checked.
		if r := d.sshRun(t, "alice", "alice-ws", nil, "echo ok"); r.stdout != "ok\n" {
			t.Fatalf("alice after the drop: %+v", r)
		}
		alice.expectAlive(t)
		alice.stop()
	}

	t.Run("share removed", func(t *testing.T) {
		each(t, "bob", "alice-ws", revoked, func() { d.cli(t, "alice", "sharing", "remove", "alice-ws", "--user", "bob") })
		m := d.metrics(t)
		if v := metric(m, `wsgate_revocations_total{reason="revoked"}`); v != "1" {
			t.Errorf("wsgate_revocations_total{reason=\"revoked\"} = %q, want 1", v)
		}
		if v := metric(m, "wsgate_revoke_drop_seconds_count"); v != "1" {
			t.Errorf("wsgate_revoke_drop_seconds_count = %q, want 1", v)
		}
		if r := d.sshRun(t, "bob", "alice-ws", nil, "true"); r.code == 0 {
			t.Fatal("bob got in again after the unshare")
		}
		d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob")
	})
	t.Run("group grant removed", func(t *testing.T) {
		d.cli(t, "alice", "sharing", "share", "alice-ws", "--group", "contractor")
		each(t, "carol", "alice-ws", revoked, func() { d.cli(t, "alice", "sharing", "remove", "alice-ws", "--group", "contractor") })
	})
	t.Run("user removed from group", func(t *testing.T) {
		d.cli(t, "alice", "sharing", "share", "alice-ws", "--group", "contractor")
		each(t, "carol", "alice-ws", revoked, func() { d.cli(t, "root", "groups", "remove-member", "contractor", "carol") })
		d.cli(t, "root", "groups", "add-member", "contractor", "carol")
		d.cli(t, "alice", "sharing", "remove", "alice-ws", "--group", "contractor")
	})
	t.Run("admin lowered to use keeps the session", func(t *testing.T) {
		d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob:admin", "--group", "contractor")
		bob := d.live(t, "bob", "alice-ws")
		d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob:use")
		// Events apply in order: once carol's later unshare has dropped her
		// session, bob's lowering has been applied too.
		carol := d.live(t, "carol", "alice-ws")
		start := time.Now()
		d.cli(t, "alice", "sharing", "remove", "alice-ws", "--group", "contractor")
		carol.expectDropped(t, start, revoked)
		if r := d.sshRun(t, "bob", "alice-ws", nil, "echo ok"); r.stdout != "ok\n" {
			t.Fatalf("bob after lowering: %+v", r)
		}
		bob.expectAlive(t)
		bob.stop()
	})
	t.Run("user suspended", func(t *testing.T) {
		each(t, "bob", "alice-ws", "your account was suspended", func() { d.cli(t, "root", "users", "suspend", "bob") })
		d.cli(t, "root", "users", "unsuspend", "bob")
	})
	t.Run("key removed", func(t *testing.T) {
		pub, err := os.ReadFile(d.key("bob") + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		each(t, "bob", "alice-ws", "your key was removed", func() {
			d.cli(t, "bob", "users", "keys", "remove", ssh.FingerprintSHA256(k))
		})
		d.cli(t, "root", "users", "keys", "add", "bob", "@"+d.key("bob")+".pub")
	})
	t.Run("API token revoked", func(t *testing.T) {
		var created struct {
			Token  struct{ ID string }
			Secret string
		}
		out := d.cli(t, "bob", "tokens", "create", "--name", "ssh", "-o", "json")
		if err := json.Unmarshal([]byte(out), &created); err != nil || created.Secret == "" {
			t.Fatalf("tokens create: %v %q", err, out)
		}
		alice := d.live(t, "alice", "alice-ws")
		// Bob's key session is untouched: only what the token opened ends.
		bobKey := d.live(t, "bob", "alice-ws")
		bobToken := startLiveSSH(t, "bob over https", []string{"WSGATE_URL=" + d.url, "WSGATE_TOKEN=" + created.Secret},
			d.tokenSSHArgs(t, "alice/alice-ws")...)
		start := time.Now()
		d.cli(t, "bob", "tokens", "revoke", created.Token.ID)
		bobToken.expectDropped(t, start, "your API token was revoked")
		if r := d.sshRun(t, "bob", "alice-ws", nil, "echo ok"); r.stdout != "ok\n" {
			t.Fatalf("bob with his key after the token revoke: %+v", r)
		}
		bobKey.expectAlive(t)
		alice.expectAlive(t)
		bobKey.stop()
		alice.stop()
	})
	t.Run("sharing disabled for the org", func(t *testing.T) {
		each(t, "bob", "alice-ws", "workspace sharing was disabled", func() {
			d.cli(t, "root", "orgs", "settings", "set", "acme", "sharing=disabled")
		})
		d.cli(t, "root", "orgs", "settings", "set", "acme", "sharing=enabled")
	})
	t.Run("sharing disabled for the deployment", func(t *testing.T) {
		each(t, "bob", "alice-ws", "workspace sharing was disabled", func() {
			d.api(t, "root", "PATCH", "/api/v1/settings", `{"sharing":"disabled"}`)
		})
		d.api(t, "root", "PATCH", "/api/v1/settings", `{"sharing":"enabled"}`)
	})
	t.Run("user deleted", func(t *testing.T) {
		d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "dave")
		each(t, "dave", "alice-ws", "your account was deleted", func() { d.cli(t, "root", "users", "delete", "-y", "dave") })
	})
	t.Run("workspace stopped", func(t *testing.T) {
		alice := d.live(t, "alice", "alice-ws")
		bob := d.live(t, "bob", "alice-ws")
		start := time.Now()
		d.cli(t, "alice", "workspaces", "stop", "alice-ws")
		alice.expectDropped(t, start, "workspace alice/alice-ws was stopped by alice")
		bob.expectDropped(t, start, "workspace alice/alice-ws was stopped by alice")
		d.cli(t, "alice", "workspaces", "start", "alice-ws")
	})
	t.Run("workspace deleted", func(t *testing.T) {
		alice := d.live(t, "alice", "alice-ws")
		bob := d.live(t, "bob", "alice-ws")
		start := time.Now()
		d.cli(t, "alice", "workspaces", "delete", "alice-ws", "--yes")
		// Deleting a running workspace stops it first; whichever of the two
		// writes the gateway sees first, the line says what happened.
		for _, l := range []*liveSSH{alice, bob} {
			l.expectDropped(t, start, "workspace alice/alice-ws was")
			if s := l.stderr.String(); !strings.Contains(s, "was stopped by alice") && !strings.Contains(s, "was deleted") {
				t.Errorf("%s stderr %q", l.name, s)
			}
		}
	})
}

// TestRevokeExpiry: a share made --for 3s lets bob in, then drops his live
// session within a second of the expiry.
func TestRevokeExpiry(t *testing.T) {
	requireTool(t, "ssh")
	d := startRevokeServer(t)
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob", "--for", "3s")
	var acl struct {
		Users []struct {
			Name      string    `json:"name"`
			ExpiresAt time.Time `json:"expires_at"`
		} `json:"users"`
	}
	out := d.cli(t, "alice", "sharing", "show", "alice-ws", "-o", "json")
	if err := json.Unmarshal([]byte(out), &acl); err != nil || len(acl.Users) != 1 || acl.Users[0].ExpiresAt.IsZero() {
		t.Fatalf("sharing show: %v %s", err, out)
	}
	expiry := acl.Users[0].ExpiresAt
	table := d.cli(t, "alice", "sharing", "show", "alice-ws")
	mustContain(t, "sharing show", table, "EXPIRES")
	alice := d.live(t, "alice", "alice-ws")
	bob := d.live(t, "bob", "alice-ws")
	if time.Now().After(expiry) {
		t.Fatal("the machine was too slow: the share expired before bob's session started")
	}
	bob.expectDropped(t, expiry, "your access to alice/alice-ws expired")
	if bob.ended.Before(expiry) {
		t.Fatalf("bob dropped at %v, before the expiry %v", bob.ended, expiry)
	}
	alice.expectAlive(t)
	if r := d.sshRun(t, "bob", "alice-ws", nil, "true"); r.code == 0 {
		t.Fatal("bob got in after the expiry")
	}
}
