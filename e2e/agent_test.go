package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/internal/sshkey"
	"github.com/wsgate/wsgate/internal/testutil"
)

// seedServer writes, before any server runs, a store in dir with user alice
// (key in dir/users/alice) and workspace alice/alice-ws, and returns the
// workspace's agent token.
func seedServer(t testing.TB, dir string) string {
	t.Helper()
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	signer, err := sshkey.LoadOrCreate(filepath.Join(dir, "users", "alice", "id_ed25519"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	token := acl.NewSecret(acl.AgentTokenPrefix)
	for _, err := range []error{
		st.CreateUser(ctx, acl.User{Name: "alice"}),
		st.AddUserKey(ctx, "alice", acl.PublicKey{
			Fingerprint:   ssh.FingerprintSHA256(signer.PublicKey()),
			AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))),
		}),
		st.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "alice-ws", State: acl.StateRunning, AgentTokenHash: acl.HashToken(token)}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return token
}

// startServer runs `wsgate server` on free loopback ports over dir and
// returns a devEnv that addresses it (known_hosts written from its key).
func startServer(t testing.TB, dir string, extra ...string) *devEnv {
	t.Helper()
	sshPort, httpPort, metricsPort := freePort(t), freePort(t), freePort(t)
	args := append([]string{"server", "--data-dir", dir,
		"--ssh-addr", fmt.Sprintf("127.0.0.1:%d", sshPort),
		"--http-addr", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metricsPort)}, extra...)
	p := startProc(t, nil, args...)
	url := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	testutil.WaitFor(t, 20*time.Second, "server health", func() bool {
		select {
		case <-p.done:
			t.Fatalf("wsgate server exited: %v\n%s", p.err, p.out.String())
		default:
		}
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	pub, err := os.ReadFile(filepath.Join(dir, "host_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("[127.0.0.1]:%d %s", sshPort, pub)
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	return &devEnv{dir: dir, sshHost: "127.0.0.1", sshPort: fmt.Sprint(sshPort), url: url, proc: p,
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d", metricsPort)}
}

// TestAgentLossAndReconnect: with the gateway and the agent as separate
// processes, killing the agent ends open sessions with a clear message, and
// a restarted agent serves new sessions within 5 s.
func TestAgentLossAndReconnect(t *testing.T) {
	requireTool(t, "ssh")
	dir := t.TempDir()
	token := seedServer(t, dir)
	d := startServer(t, dir)
	wsDir := filepath.Join(dir, "ws")

	// Before any agent: a clear message, not a hang.
	r := d.sshRun(t, "alice", "alice-ws", nil, "true")
	if r.code == 0 {
		t.Fatal("session succeeded with no agent")
	}
	mustContain(t, "no agent", r.stderr, "wsgate: workspace alice/alice-ws is not running (agent not connected)")

	agent := startWorkspaceAgent(t, d.url, token, aliceWS, wsDir)
	d.waitAgent(t, "alice", "alice-ws")

	// A long session, then the agent dies under it.
	live := d.live(t, "alice", "alice-ws")
	agent.kill()
	live.expectEnded(t, "connection to workspace alice/alice-ws lost")

	// The agent comes back: new sessions work within 5 s of its start.
	restarted := time.Now()
	startWorkspaceAgent(t, d.url, token, aliceWS, wsDir)
	for {
		r := run(t, 30*time.Second, nil, "ssh", append(d.sshArgs("alice", "alice-ws"), "echo back")...)
		if r.code == 0 && r.stdout == "back\n" {
			break
		}
		if time.Since(restarted) > 5*time.Second {
			t.Fatalf("no working session 5 s after the agent restarted: %d %q", r.code, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
