package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
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

// The revocation tests' world: site admin root; alice owns alice/alice-ws
// (org acme); bob and dave may be shared with; carol is in group
// contractor.
var revokeUsers = []string{"root", "alice", "bob", "carol", "dave"}

// seedRevokeStore writes that world into st, keys and API tokens under
// dir/users/<user>/ (as wsgate dev lays them out), and returns the agent
// token of each workspace (alice/alice-ws, plus extra ones, also in acme).
func seedRevokeStore(t testing.TB, st acl.Store, dir string, extra ...acl.WorkspaceID) map[acl.WorkspaceID]string {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range revokeUsers {
		signer, err := sshkey.LoadOrCreate(filepath.Join(dir, "users", u, "id_ed25519"), u)
		must(err)
		must(st.CreateUser(ctx, acl.User{Name: u, SiteAdmin: u == "root"}))
		must(st.AddUserKey(ctx, u, acl.PublicKey{
			Fingerprint:   ssh.FingerprintSHA256(signer.PublicKey()),
			AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))),
		}))
		secret := acl.NewSecret(acl.APITokenPrefix)
		must(st.CreateToken(ctx, acl.Token{ID: acl.NewID(), User: u, Name: "seed", Hash: acl.HashToken(secret), CreatedAt: time.Now()}))
		must(os.WriteFile(filepath.Join(dir, "users", u, "token"), []byte(secret+"\n"), 0o600))
	}
	must(st.CreateGroup(ctx, acl.Group{Name: "contractor"}))
	must(st.AddGroupMember(ctx, "contractor", "carol"))
	must(st.CreateOrg(ctx, acl.Org{Name: "acme"}))
	tokens := map[acl.WorkspaceID]string{}
	for _, id := range append([]acl.WorkspaceID{{Owner: "alice", Name: "alice-ws"}}, extra...) {
		tok := acl.NewSecret(acl.AgentTokenPrefix)
		must(st.CreateWorkspace(ctx, acl.Workspace{Owner: id.Owner, Name: id.Name, Org: "acme", State: acl.StateRunning, AgentTokenHash: acl.HashToken(tok)}))
		tokens[id] = tok
	}
	return tokens
}

// seedRevokeDir is a fresh directory with an embedded store seeded by
// seedRevokeStore, for `wsgate server --data-dir`; it returns the agent
// tokens too.
func seedRevokeDir(t testing.TB) (dir string, tokens map[acl.WorkspaceID]string) {
	t.Helper()
	dir = t.TempDir()
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	tokens = seedRevokeStore(t, st, dir)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, tokens
}

// startWorkspaceAgent runs `wsgate agent` for workspace ws against url,
// with its state (its key) in agentStateDir(dir), beside the workspace's
// files; token "" runs it without one (it signs with its key).
func startWorkspaceAgent(t testing.TB, url, token string, ws acl.WorkspaceID, dir string) *proc {
	t.Helper()
	return startProc(t, []string{"WSGATE_AGENT_TOKEN=" + token},
		"agent", "--url", url, "--dir", dir, "--workspace", ws.String(), "--run-as", selfUser(t), "--state-dir", agentStateDir(dir))
}

// agentStateDir is where startWorkspaceAgent keeps the agent of dir's key.
func agentStateDir(dir string) string { return dir + ".agent-state" }

// waitAgent waits until user can run a command in target through d.
func (d *devEnv) waitAgent(t testing.TB, user, target string) {
	t.Helper()
	testutil.WaitFor(t, 20*time.Second, "agent of "+target, func() bool {
		return run(t, 30*time.Second, nil, "ssh", append(d.sshArgs(user, target), "true")...).code == 0
	})
}

// liveSSH is a real ssh client running `echo started; sleep 600`.
type liveSSH struct {
	name   string
	cmd    *exec.Cmd
	stderr *testutil.Buffer
	done   chan struct{}
	ended  time.Time
	err    error
}

// startLiveSSH runs the long command with args (ssh options, then the
// host) and waits until it printed "started".
func startLiveSSH(t testing.TB, name string, env []string, args ...string) *liveSSH {
	t.Helper()
	cmd := exec.Command("ssh", append(args, "echo started; sleep 600")...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	l := &liveSSH{name: name, cmd: cmd, stderr: &testutil.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = l.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		started <- line
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		l.err = cmd.Wait()
		l.ended = time.Now()
		close(l.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-l.done
	})
	select {
	case line := <-started:
		if line != "started\n" {
			<-l.done
			t.Fatalf("%s did not start: %q, stderr %q", name, line, l.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30s; stderr %q", name, l.stderr.String())
	}
	return l
}

// expectDropped checks that the session ended within a second of since
// and that its terminal shows why.
func (l *liveSSH) expectDropped(t testing.TB, since time.Time, msg string) {
	t.Helper()
	l.expectEnded(t, msg)
	if d := l.ended.Sub(since); d > time.Second {
		t.Errorf("%s ended %v after the write, want within 1s", l.name, d)
	}
}

// expectEnded checks that the session ended (within 10 s), not with status
// 0, and showed "wsgate: msg".
func (l *liveSSH) expectEnded(t testing.TB, msg string) {
	t.Helper()
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still running 10s later; stderr %q", l.name, l.stderr.String())
	}
	if l.err == nil {
		t.Errorf("%s exited with status 0", l.name)
	}
	mustContain(t, l.name+" stderr", l.stderr.String(), "wsgate: "+msg)
}

func (l *liveSSH) expectAlive(t testing.TB) {
	t.Helper()
	select {
	case <-l.done:
		t.Fatalf("%s ended (%v); stderr %q", l.name, l.err, l.stderr.String())
	default:
	}
}

func (l *liveSSH) stop() {
	_ = l.cmd.Process.Kill()
	<-l.done
}

// live starts user's long session to target on d.
func (d *devEnv) live(t testing.TB, user, target string) *liveSSH {
	t.Helper()
	return startLiveSSH(t, user+"@"+target, nil, d.sshArgs(user, target)...)
}

// cli runs the wsgate CLI as user (its token from dir/users/<user>/token)
// and fails the test unless it succeeds.
func (d *devEnv) cli(t testing.TB, user string, args ...string) string {
	t.Helper()
	r := d.wsgateCLI(t, user, args...)
	if r.code != 0 {
		t.Fatalf("wsgate %s as %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), user, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// api sends one JSON request to the control API as user.
func (d *devEnv) api(t testing.TB, user, method, path, body string) {
	t.Helper()
	req, err := http.NewRequest(method, d.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token(t, user))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s as %s: %s %s", method, path, user, resp.Status, b)
	}
}

// metricsPage is the URL of the gateway's /metrics: on --metrics-addr for
// `wsgate server`, on the HTTP port for `wsgate dev`.
func (d *devEnv) metricsPage() string {
	if d.metricsURL != "" {
		return d.metricsURL + "/metrics"
	}
	return d.url + "/metrics"
}

// metrics returns the gateway's /metrics text.
func (d *devEnv) metrics(t testing.TB) string {
	t.Helper()
	resp, err := http.Get(d.metricsPage())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %v", resp.Status, err)
	}
	return string(b)
}

// metric returns the value of one sample line ("name{labels}") or "".
func metric(text, series string) string {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}

// tokenSSHArgs are OpenSSH arguments that reach target over the HTTPS
// upgrade with an API token (`wsgate ssh --stdio` as ProxyCommand); the
// token goes in the environment of the ssh process.
func (d *devEnv) tokenSSHArgs(t testing.TB, target string) []string {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(d.dir, "host_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, []byte("gw "+string(pub)), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"-F", "/dev/null",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "PubkeyAuthentication=no",
		"-o", "UserKnownHostsFile=" + kh, "-o", "StrictHostKeyChecking=yes", "-o", "HostKeyAlias=gw",
		"-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
		"-o", fmt.Sprintf("ProxyCommand=%s ssh --stdio %%h", wsgateBin),
		"-l", target, "gw",
	}
}

// copyUsers copies dir/users (keys and tokens) to another server's dir.
func copyUsers(t testing.TB, from, to string) {
	t.Helper()
	for _, u := range revokeUsers {
		for _, f := range []string{"id_ed25519", "id_ed25519.pub", "token"} {
			b, err := os.ReadFile(filepath.Join(from, "users", u, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(to, "users", u), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, "users", u, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}
