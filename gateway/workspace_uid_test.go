package gateway

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
)

// uidEnv is a whole gateway (Start) with a file store, users alice and
// mallory with keys, and agents run through real tunnels.
type uidEnv struct {
	t    *testing.T
	st   *filestore.Store
	srv  *Server
	keys map[string]ssh.Signer
	logs *testutil.Buffer
}

func newUIDEnv(t *testing.T) *uidEnv {
	t.Helper()
	st, err := filestore.New(filestore.Config{Path: filepath.Join(t.TempDir(), "acl.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &uidEnv{t: t, st: st, keys: map[string]ssh.Signer{}, logs: &testutil.Buffer{}}
	for _, u := range []string{"alice", "mallory"} {
		e.keys[u] = addUserWithKey(t, st, u)
	}
	e.srv, err = Start(ServerConfig{
		Store: st, SSHAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HostSigner: testutil.NewSigner(t),
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("gateway log:\n%s", e.logs.String())
		}
	})
	return e
}

// createWorkspace creates owner/name with a fresh agent token and returns
// the workspace and the token.
func (e *uidEnv) createWorkspace(owner, name string) (acl.Workspace, string) {
	e.t.Helper()
	ctx := context.Background()
	tok := acl.NewSecret(acl.AgentTokenPrefix)
	id := acl.WorkspaceID{Owner: owner, Name: name}
	must(e.t, e.st.CreateWorkspace(ctx, acl.Workspace{Owner: owner, Name: name, State: acl.StateRunning, AgentTokenHash: acl.HashToken(tok)}))
	w, err := e.st.GetWorkspace(ctx, id)
	must(e.t, err)
	return w, tok
}

// uidAgent is an agent process's tunnel client, kept running (and
// redialling) until the test ends.
type uidAgent struct {
	dir  string
	done chan error
}

func (e *uidEnv) runAgent(w acl.Workspace, token string) *uidAgent {
	e.t.Helper()
	dir := e.t.TempDir()
	a, err := agent.New(agent.Config{Workspace: w.ID().String(), Dir: dir, Shell: "/bin/sh", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &uidAgent{dir: dir, done: make(chan error, 1)}
	go func() {
		ra.done <- tunnel.Run(ctx, tunnel.ClientConfig{
			URL: "http://" + e.srv.HTTPAddr().String(), Identity: agentIdentity(e.t, token), Handler: a.HandleStream,
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		})
	}()
	e.t.Cleanup(func() {
		cancel()
		<-ra.done
		_ = a.Close()
	})
	testutil.Eventually(e.t, "agent of "+w.ID().String()+" connected", func() bool { return e.srv.Agents().Connected(w.UID) })
	return ra
}

func (e *uidEnv) dial(user, login string) *ssh.Client {
	e.t.Helper()
	c, err := ssh.Dial("tcp", e.srv.SSHAddr().String(), &ssh.ClientConfig{
		User: login, Auth: []ssh.AuthMethod{ssh.PublicKeys(e.keys[user])},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	return c
}

// refusedAgents counts the agent tunnels the gateway has refused so far.
func (e *uidEnv) refusedAgents() int {
	return strings.Count(e.logs.String(), "agent authentication failed")
}

// waitRefusedAgent waits until an agent was refused after before.
func (e *uidEnv) waitRefusedAgent(t *testing.T, before int) {
	t.Helper()
	testutil.Eventually(t, "an agent refused", func() bool { return e.refusedAgents() > before })
}

// markerSession opens a live session to target as alice with a key of its
// own and returns a func that removes the key and waits until that session
// is dropped. Events are handled one at a time, in order: once the marker
// is dropped, every event written before the removal has been handled.
func (e *uidEnv) markerSession(t *testing.T, target string) func() {
	t.Helper()
	ctx := context.Background()
	k := addKey(t, e.st, "alice")
	fp := ssh.FingerprintSHA256(k.PublicKey())
	c, err := ssh.Dial("tcp", e.srv.SSHAddr().String(), &ssh.ClientConfig{
		User: target, Auth: []ssh.AuthMethod{ssh.PublicKeys(k)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second,
	})
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	live := startLive(t, c)
	return func() {
		t.Helper()
		must(t, e.st.RemoveUserKey(ctx, "alice", fp))
		live.expectDropped(t, "marker", "your key was removed")
	}
}

// TestDeletedWorkspaceAgentUnreachable: deleting a workspace disconnects
// its agent, and a workspace created again under the same owner/name never
// reaches the old agent — even while that agent keeps redialling with its
// old token, and even for someone the new workspace is shared with.
func TestDeletedWorkspaceAgentUnreachable(t *testing.T) {
	ctx := context.Background()
	e := newUIDEnv(t)
	old, oldTok := e.createWorkspace("alice", "alice-ws")
	oldAgent := e.runAgent(old, oldTok)
	// A file only the old workspace's agent can show.
	must(t, os.WriteFile(filepath.Join(oldAgent.dir, "secret.txt"), []byte("old workspace\n"), 0o600))
	live := startLive(t, e.dial("alice", "alice-ws"))

	refusedBefore := e.refusedAgents()
	must(t, e.st.DeleteWorkspace(ctx, old.ID()))
	live.expectDropped(t, "alice", "workspace alice/alice-ws was deleted")
	testutil.Eventually(t, "old agent disconnected", func() bool { return !e.srv.Agents().Connected(old.UID) })

	fresh, _ := e.createWorkspace("alice", "alice-ws")
	if fresh.UID == old.UID {
		t.Fatalf("re-created workspace kept UID %s", old.UID)
	}
	must(t, e.st.ApplyGrants(ctx, fresh.ID(), []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "mallory", Role: acl.RoleUse}}))
	// The old agent redials with its token, which names no workspace.
	e.waitRefusedAgent(t, refusedBefore)
	if e.srv.Agents().Connected(old.UID) || e.srv.Agents().Connected(fresh.UID) {
		t.Fatal("the old agent got a tunnel back")
	}
	r := run(t, e.dial("mallory", "alice/alice-ws"), "cat secret.txt", nil)
	if r.stdout != "" || r.stderr != "wsgate: workspace alice/alice-ws is not running (agent not connected)\r\n" {
		t.Fatalf("mallory on the re-created workspace: %+v", r)
	}
}

// TestRenameKeepsSessionsAndTunnel: a rename keeps live sessions and the
// agent's tunnel; the new name reaches the same agent, the old one nothing.
func TestRenameKeepsSessionsAndTunnel(t *testing.T) {
	ctx := context.Background()
	e := newUIDEnv(t)
	w, tok := e.createWorkspace("alice", "alice-ws")
	ra := e.runAgent(w, tok)
	must(t, os.WriteFile(filepath.Join(ra.dir, "here.txt"), []byte("same agent\n"), 0o600))
	must(t, e.st.ApplyGrants(ctx, w.ID(), []acl.GrantChange{{Kind: acl.SubjectUser, Subject: "mallory", Role: acl.RoleUse}}))
	alice := startLive(t, e.dial("alice", "alice-ws"))
	mallory := startLive(t, e.dial("mallory", "alice/alice-ws"))
	marker := e.markerSession(t, "alice-ws")

	must(t, e.st.RenameWorkspace(ctx, w.ID(), "renamed-ws"))
	// Events are handled in order: once the marker's is, the rename's
	// re-checks have been decided.
	marker()
	alice.expectAlive(t, "alice after rename")
	mallory.expectAlive(t, "mallory after rename")
	if !e.srv.Agents().Connected(w.UID) {
		t.Fatal("rename disconnected the agent")
	}
	if r := run(t, e.dial("mallory", "alice/renamed-ws"), "cat here.txt", nil); r.stdout != "same agent\n" {
		t.Fatalf("new name: %+v", r)
	}
	var rec bannerRecorder
	_, err := ssh.Dial("tcp", e.srv.SSHAddr().String(), &ssh.ClientConfig{
		User: "alice-ws", Auth: []ssh.AuthMethod{ssh.PublicKeys(e.keys["alice"])},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), BannerCallback: rec.callback,
	})
	if err == nil || !strings.Contains(rec.String(), "not found or access denied") {
		t.Fatalf("old name: err %v banner %q", err, rec.String())
	}
}

// TestRotatedAgentTokenDisconnects: replacing the agent token closes the
// tunnel opened with the old one and keeps it closed, while an agent that
// already holds the new token stays.
func TestRotatedAgentTokenDisconnects(t *testing.T) {
	ctx := context.Background()
	e := newUIDEnv(t)
	w, tok := e.createWorkspace("alice", "alice-ws")
	e.runAgent(w, tok)
	newTok := acl.NewSecret(acl.AgentTokenPrefix)
	must(t, e.st.SetAgentTokenHash(ctx, w.ID(), acl.HashToken(newTok)))
	refusedBefore := e.refusedAgents()
	testutil.Eventually(t, "agent with the old token disconnected", func() bool { return !e.srv.Agents().Connected(w.UID) })
	e.waitRefusedAgent(t, refusedBefore) // the old agent redials and is refused
	if e.srv.Agents().Connected(w.UID) {
		t.Fatal("the old token opened a tunnel again")
	}
	e.runAgent(w, newTok)
	marker := e.markerSession(t, "alice-ws")
	// The agent that enrolled with the new token stays: its key is the
	// one pinned now (a new token unpins the old agent's key, so the old
	// agent cannot sign its way back either).
	marker()
	if !e.srv.Agents().Connected(w.UID) {
		t.Fatal("the agent enrolled with the current token was disconnected")
	}
	k, err := e.st.GetAgentKey(ctx, w.UID)
	must(t, err)
	if k.PublicKey == "" {
		t.Fatal("no key pinned after the new agent enrolled")
	}
}
