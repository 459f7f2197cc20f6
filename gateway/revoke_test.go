package gateway

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/internal/testutil"
)

// startRevoker runs a Revoker for e's SSH server until the test ends and
// waits until it follows the store's events.
func (e *testEnv) startRevoker(cfg revoke.Config) *revoke.Revoker {
	e.t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("part", "revoke")
	}
	if cfg.Store == nil {
		cfg.Store = e.gwStore
	}
	cfg.Access, cfg.Sessions, cfg.Metrics = e.access, e.sessions, e.metrics
	rv, err := revoke.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rv.Run(ctx) }()
	e.t.Cleanup(func() {
		// Clients closed their connections in earlier cleanups; let the
		// gateway finish them while agents still run, so that Shutdown has
		// nothing to drop. (A drop racing an agent-side EOF on the same
		// channel is a data race inside x/crypto; see proxy.drop.)
		e.waitNoSessions()
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("revoker: %v", err)
		}
	})
	testutil.Eventually(e.t, "revoker following events", func() bool { return e.access.Live() })
	return rv
}

// waitNoSessions waits until every proxied connection has ended.
func (e *testEnv) waitNoSessions() {
	e.t.Helper()
	testutil.Eventually(e.t, "no live sessions", func() bool { return e.sessions.Len() == 0 })
}

// newBobSharedEnv starts alice-ws's agent and a revoker whose events w
// counts, and shares alice-ws with bob at use: where revocation tests
// start.
func newBobSharedEnv(t *testing.T) (*testEnv, *runningAgent, *eventWatch) {
	t.Helper()
	e := newEnv(t)
	ra := e.startAgent("alice/alice-ws")
	w := e.watchEvents(e.startRevoker(revoke.Config{}))
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	w.sync()
	return e, ra, w
}

// eventWatch counts the store's events as the revoker sees them, so that
// a test knows when the revoker has applied everything written so far.
type eventWatch struct {
	e    *testEnv
	rv   *revoke.Revoker
	ch   <-chan acl.Event
	seen uint64
}

// watchEvents subscribes right after the revoker did, before any write it
// should count.
func (e *testEnv) watchEvents(rv *revoke.Revoker) *eventWatch {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.t.Cleanup(cancel)
	ch, err := e.store.Subscribe(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return &eventWatch{e: e, rv: rv, ch: ch, seen: rv.Handled()}
}

// sync writes a marker that touches no session (dave is suspended
// already), reads events up to it, and waits until the revoker has applied
// as many and every drop they caused has finished on the gateway.
func (w *eventWatch) sync() {
	t := w.e.t
	t.Helper()
	must(t, w.e.store.SetUserSuspended(context.Background(), "dave", true))
	for {
		select {
		case ev := <-w.ch:
			w.seen++
			if ev.Kind == acl.EventUserSuspended && ev.User == "dave" {
				testutil.Eventually(t, "revoker caught up", func() bool { return w.rv.Handled() >= w.seen })
				w.rv.WaitDrops() // no drop starts while no event arrives
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("marker event not delivered")
		}
	}
}

// liveCmd is a long command running in one session.
type liveCmd struct {
	client *ssh.Client
	stderr *testutil.Buffer
	done   chan error
}

// startLive runs `echo started; sleep 600` on c and waits for "started".
func startLive(t *testing.T, c *ssh.Client) *liveCmd {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	out, errb := &testutil.Buffer{}, &testutil.Buffer{}
	s.Stdout, s.Stderr = out, errb
	if err := s.Start("echo started; sleep 600"); err != nil {
		t.Fatal(err)
	}
	lc := &liveCmd{client: c, stderr: errb, done: make(chan error, 1)}
	go func() { lc.done <- s.Wait() }()
	testutil.Eventually(t, "command started", func() bool { return strings.Contains(out.String(), "started") })
	return lc
}

// expectDropped waits for the command to end and checks the one line the
// gateway wrote on its stderr.
func (lc *liveCmd) expectDropped(t *testing.T, name, msg string) {
	t.Helper()
	select {
	case <-lc.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: session not dropped", name)
	}
	if got, want := lc.stderr.String(), "wsgate: "+msg+"\r\n"; got != want {
		t.Fatalf("%s: stderr %q, want %q", name, got, want)
	}
}

// expectAlive checks that the command still runs and the connection still
// serves new sessions.
func (lc *liveCmd) expectAlive(t *testing.T, name string) {
	t.Helper()
	select {
	case err := <-lc.done:
		t.Fatalf("%s: session ended (%v), stderr %q", name, err, lc.stderr.String())
	default:
	}
	if r := run(t, lc.client, "echo ok", nil); r.stdout != "ok\n" {
		t.Fatalf("%s: new session on a kept connection: %+v", name, r)
	}
}

// session is one connection of the table: who, to what, and how.
type sessionSpec struct {
	name, user, login string
	token             bool // over the HTTPS upgrade with an API token of user
}

var baseSessions = []sessionSpec{
	{name: "alice@alice-ws", user: "alice", login: "alice-ws"},
	{name: "bob@alice-ws", user: "bob", login: "alice/alice-ws"},
	{name: "carol@alice-ws", user: "carol", login: "alice/alice-ws"},
	{name: "bob@bob-ws", user: "bob", login: "bob-ws"},
	{name: "carol@bob-ws", user: "carol", login: "bob/bob-ws"},
}

var (
	aliceWS = acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	bobWS   = acl.WorkspaceID{Owner: "bob", Name: "bob-ws"}
)

// TestRevokeTable: each event drops exactly the sessions whose access it
// ended, each with its reason, and leaves every other session alone.
// Shares: alice-ws with bob (use) and group contractor (carol, use);
// bob-ws with carol (use).
func TestRevokeTable(t *testing.T) {
	ctx := context.Background()
	as := acl.WithActor(ctx, "alice")
	type tcase struct {
		name  string
		setup func(e *testEnv) // before the sessions open
		extra []sessionSpec
		write func(e *testEnv, tokens map[string]string)
		// dropped maps session names to the message they must show.
		dropped map[string]string
	}
	revoked := "access to alice/alice-ws was revoked"
	cases := []tcase{
		{
			name:    "user grant removed",
			write:   func(e *testEnv, _ map[string]string) { e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone) },
			dropped: map[string]string{"bob@alice-ws": revoked},
		},
		{
			name:    "group grant removed",
			write:   func(e *testEnv, _ map[string]string) { e.share(aliceWS, acl.SubjectGroup, "contractor", acl.RoleNone) },
			dropped: map[string]string{"carol@alice-ws": revoked},
		},
		{
			name:    "user removed from group",
			write:   func(e *testEnv, _ map[string]string) { must(t, e.store.RemoveGroupMember(ctx, "contractor", "carol")) },
			dropped: map[string]string{"carol@alice-ws": revoked},
		},
		{
			name:    "group deleted",
			write:   func(e *testEnv, _ map[string]string) { must(t, e.store.DeleteGroup(ctx, "contractor")) },
			dropped: map[string]string{"carol@alice-ws": revoked},
		},
		{
			name:  "grant lowered from admin to use keeps the session",
			setup: func(e *testEnv) { e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleAdmin) },
			write: func(e *testEnv, _ map[string]string) { e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse) },
		},
		{
			name:  "user suspended",
			write: func(e *testEnv, _ map[string]string) { must(t, e.store.SetUserSuspended(ctx, "carol", true)) },
			dropped: map[string]string{
				"carol@alice-ws": "your account was suspended",
				"carol@bob-ws":   "your account was suspended",
			},
		},
		{
			name:  "user deleted",
			write: func(e *testEnv, _ map[string]string) { must(t, e.store.DeleteUser(ctx, "carol")) },
			dropped: map[string]string{
				"carol@alice-ws": "your account was deleted",
				"carol@bob-ws":   "your account was deleted",
			},
		},
		{
			name: "key removed",
			write: func(e *testEnv, _ map[string]string) {
				must(t, e.store.RemoveUserKey(ctx, "bob", ssh.FingerprintSHA256(e.keys["bob"].PublicKey())))
			},
			dropped: map[string]string{
				"bob@alice-ws": "your key was removed",
				"bob@bob-ws":   "your key was removed",
			},
		},
		{
			name:  "API token revoked",
			extra: []sessionSpec{{name: "bob-token@alice-ws", user: "bob", login: "alice/alice-ws", token: true}},
			write: func(e *testEnv, tokens map[string]string) {
				must(t, e.store.RevokeToken(ctx, "bob", tokens["bob-token@alice-ws"]))
			},
			dropped: map[string]string{"bob-token@alice-ws": "your API token was revoked"},
		},
		{
			name: "site admin revoked",
			setup: func(e *testEnv) {
				e.addUser("erin")
				must(t, e.store.SetUserSiteAdmin(ctx, "erin", true))
			},
			extra:   []sessionSpec{{name: "erin@alice-ws", user: "erin", login: "alice/alice-ws"}},
			write:   func(e *testEnv, _ map[string]string) { must(t, e.store.SetUserSiteAdmin(ctx, "erin", false)) },
			dropped: map[string]string{"erin@alice-ws": revoked},
		},
		{
			name: "sharing disabled for the deployment",
			write: func(e *testEnv, _ map[string]string) {
				must(t, e.store.SetSettings(ctx, acl.Settings{SharingDisabled: true}))
			},
			dropped: map[string]string{
				"bob@alice-ws":   "workspace sharing was disabled",
				"carol@alice-ws": "workspace sharing was disabled",
				"carol@bob-ws":   "workspace sharing was disabled",
			},
		},
		{
			name: "sharing disabled for an org",
			setup: func(e *testEnv) {
				must(t, e.store.CreateOrg(ctx, acl.Org{Name: "acme"}))
				tok := acl.NewSecret(acl.AgentTokenPrefix)
				must(t, e.store.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "team-ws", Org: "acme", State: acl.StateRunning, AgentTokenHash: acl.HashToken(tok)}))
				e.tokens["alice/team-ws"] = tok
				e.startAgent("alice/team-ws")
				e.share(acl.WorkspaceID{Owner: "alice", Name: "team-ws"}, acl.SubjectUser, "bob", acl.RoleUse)
			},
			extra: []sessionSpec{
				{name: "bob@team-ws", user: "bob", login: "alice/team-ws"},
				{name: "alice@team-ws", user: "alice", login: "alice/team-ws"},
			},
			write:   func(e *testEnv, _ map[string]string) { must(t, e.store.SetOrgSharingDisabled(ctx, "acme", true)) },
			dropped: map[string]string{"bob@team-ws": "workspace sharing was disabled"},
		},
		{
			name: "workspace stopped",
			write: func(e *testEnv, _ map[string]string) {
				must(t, e.store.SetWorkspaceState(as, aliceWS, acl.StateStopping))
			},
			dropped: map[string]string{
				"alice@alice-ws": "workspace alice/alice-ws was stopped by alice",
				"bob@alice-ws":   "workspace alice/alice-ws was stopped by alice",
				"carol@alice-ws": "workspace alice/alice-ws was stopped by alice",
			},
		},
		{
			name:  "workspace deleted",
			write: func(e *testEnv, _ map[string]string) { must(t, e.store.DeleteWorkspace(ctx, aliceWS)) },
			dropped: map[string]string{
				"alice@alice-ws": "workspace alice/alice-ws was deleted",
				"bob@alice-ws":   "workspace alice/alice-ws was deleted",
				"carol@alice-ws": "workspace alice/alice-ws was deleted",
			},
		},
		{
			// Sessions are bound to the workspace, not its name.
			name:  "workspace renamed keeps sessions",
			write: func(e *testEnv, _ map[string]string) { must(t, e.store.RenameWorkspace(ctx, aliceWS, "renamed-ws")) },
		},
		{
			// The old owner keeps nothing: their session ends; bob, who
			// held a grant, owns it now and stays.
			name: "workspace transferred, old owner keeps nothing",
			write: func(e *testEnv, _ map[string]string) {
				must(t, e.store.TransferWorkspace(ctx, aliceWS, "bob", acl.RoleNone))
			},
			dropped: map[string]string{"alice@alice-ws": "workspace alice/alice-ws was transferred to bob; you no longer have access to it"},
		},
		{
			name: "workspace transferred, old owner keeps use",
			write: func(e *testEnv, _ map[string]string) {
				must(t, e.store.TransferWorkspace(ctx, aliceWS, "bob", acl.RoleUse))
			},
		},
		{
			name: "agent token rotated keeps sessions that still pass",
			write: func(e *testEnv, _ map[string]string) {
				must(t, e.store.SetAgentTokenHash(ctx, aliceWS, acl.HashToken(acl.NewSecret(acl.AgentTokenPrefix))))
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.startAgent("alice/alice-ws")
			e.startAgent("bob/bob-ws")
			rv := e.startRevoker(revoke.Config{})
			w := e.watchEvents(rv)
			e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
			e.share(aliceWS, acl.SubjectGroup, "contractor", acl.RoleUse)
			e.share(bobWS, acl.SubjectUser, "carol", acl.RoleUse)
			if tc.setup != nil {
				tc.setup(e)
			}
			w.sync()

			specs := append(append([]sessionSpec(nil), baseSessions...), tc.extra...)
			live := map[string]*liveCmd{}
			tokens := map[string]string{} // session name -> API token id
			for _, sp := range specs {
				var c *ssh.Client
				if sp.token {
					secret, id := e.apiToken(sp.user)
					tokens[sp.name] = id
					c = e.mustDialHTTPS(e.upgradeServer(false), secret, sp.login)
				} else {
					c = e.mustDial(sp.user, sp.login)
				}
				live[sp.name] = startLive(t, c)
			}
			tc.write(e, tokens)
			w.sync()
			for name, msg := range tc.dropped {
				live[name].expectDropped(t, name, msg)
			}
			for _, sp := range specs {
				if _, gone := tc.dropped[sp.name]; !gone {
					live[sp.name].expectAlive(t, sp.name)
				}
			}
			testutil.Eventually(t, "registry matches", func() bool { return e.sessions.Len() == len(specs)-len(tc.dropped) })
		})
	}
}

// addUser creates a user with a fresh key.
func (e *testEnv) addUser(name string) {
	e.t.Helper()
	k := testutil.NewSigner(e.t)
	e.keys[name] = k
	must(e.t, e.store.CreateUser(context.Background(), acl.User{Name: name}))
	must(e.t, e.store.AddUserKey(context.Background(), name, acl.PublicKey{
		Fingerprint:   ssh.FingerprintSHA256(k.PublicKey()),
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey()))),
	}))
}

// TestDropUserWhoDoesNotRead: a revoked user whose client stopped reading
// (its channel window is full, so the gateway cannot write the message) is
// still cut off: the drop gives up on the message and closes the
// connection, and the user's connection ends.
func TestDropUserWhoDoesNotRead(t *testing.T) {
	e, _, w := newBobSharedEnv(t)

	c := e.mustDial("bob", "alice/alice-ws")
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	// Never read: the output fills the channel's window, and the stderr
	// write of the drop message blocks behind it.
	ok, err := ch.SendRequest("exec", true, ssh.Marshal(struct{ Cmd string }{"yes"}))
	if err != nil || !ok {
		t.Fatalf("exec: %v %v", ok, err)
	}
	testutil.Eventually(t, "session tracked", func() bool { return e.sessions.Len() == 1 })
	time.Sleep(100 * time.Millisecond) // let the output fill the window

	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone)
	w.sync()
	ended := make(chan error, 1)
	go func() { ended <- c.Wait() }()
	select {
	case <-ended:
	case <-time.After(15 * time.Second):
		t.Fatal("the connection of a user who does not read outlived the drop")
	}
	e.waitNoSessions()
}
