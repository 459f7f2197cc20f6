package gateway

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/gateway/internal/sshfront"
	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
)

// testEnv is a real gateway on loopback: a filestore, an agent registry
// behind a real HTTP server, and an SSHServer; agents are real agents
// connected through real tunnels.
type testEnv struct {
	t        *testing.T
	store    *filestore.Store
	reg      *tunnel.Registry
	httpURL  string
	srv      *sshfront.Server
	access   *access.Authorizer
	sessions *sessions.Registry
	metrics  *prometheus.Registry
	gwStore  acl.Store // the store as the gateway reads it
	addr     string
	hostKey  ssh.PublicKey
	ca       ssh.Signer
	keys     map[string]ssh.Signer // user -> key
	tokens   map[string]string     // "owner/name" -> agent token
	logs     *testutil.Buffer
	served   chan error
}

// envConfig is what options may change before the parts are built.
type envConfig struct {
	// store is the store as the gateway's parts read it (the test writes
	// to the env's store directly).
	store  acl.Store
	ssh    sshfront.Config
	access access.Config
}

type envOption func(*envConfig)

// withNow sets the clock of every part.
func withNow(now func() time.Time) envOption {
	return func(c *envConfig) { c.ssh.Now, c.access.Now = now, now }
}

// withSSH changes the front door's config.
func withSSH(f func(*sshfront.Config)) envOption {
	return func(c *envConfig) { f(&c.ssh) }
}

// newEnv seeds users alice, bob, carol (group contractor), dave (suspended),
// workspaces alice/alice-ws and bob/bob-ws, and starts the gateway. No
// agent runs until startAgent.
func newEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := filestore.New(filestore.Config{Path: filepath.Join(t.TempDir(), "acl.db"), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, store: st, keys: map[string]ssh.Signer{}, tokens: map[string]string{}, logs: &testutil.Buffer{}}
	t.Cleanup(func() { _ = st.Close() })

	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		e.keys[u] = addUserWithKey(t, st, u)
	}
	must(t, st.SetUserSuspended(ctx, "dave", true))
	must(t, st.CreateGroup(ctx, acl.Group{Name: "contractor"}))
	must(t, st.AddGroupMember(ctx, "contractor", "carol"))
	e.createWorkspace("alice", "alice-ws")
	e.createWorkspace("bob", "bob-ws")

	// Agent tunnels on a real HTTP server.
	e.reg = tunnel.NewRegistry(tunnel.RegistryConfig{Logger: slog.New(slog.DiscardHandler), KeepAliveInterval: time.Second})
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(tunnel.ConnectPath, e.reg.Handler(func(ctx context.Context, token string) (string, error) {
		w, err := st.WorkspaceByAgentTokenHash(ctx, acl.HashToken(token))
		if err != nil {
			return "", err
		}
		return w.UID, nil
	}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	httpDone := make(chan struct{})
	go func() {
		defer close(httpDone)
		_ = hs.Serve(hln)
	}()
	e.httpURL = "http://" + hln.Addr().String()

	e.ca = testutil.NewSigner(t)
	host := testutil.NewSigner(t)
	e.hostKey = host.PublicKey()
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := envConfig{
		ssh: sshfront.Config{
			Agents:     e.reg,
			HostSigner: host,
			UserCAKeys: []ssh.PublicKey{e.ca.PublicKey()},
			Logger:     logger,
		},
		access: access.Config{Logger: logger},
		store:  st,
	}
	for _, o := range opts {
		o(&cfg)
	}
	// Built in the gateway's order: access, sessions, then the front door.
	e.metrics = prometheus.NewRegistry()
	cfg.access.Metrics, cfg.access.Store = e.metrics, cfg.store
	e.gwStore = cfg.store
	if e.access, err = access.New(cfg.access); err != nil {
		t.Fatal(err)
	}
	if e.sessions, err = sessions.NewRegistry(sessions.Config{Gen: e.access.Gen, Metrics: e.metrics}); err != nil {
		t.Fatal(err)
	}
	cfg.ssh.Access, cfg.ssh.Sessions = e.access, e.sessions
	if e.srv, err = sshfront.New(cfg.ssh); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	e.served = make(chan error, 1)
	go func() { e.served <- e.srv.Serve(ln) }()

	// Cleanups run last-in first-out: registered after the agents' would be
	// wrong, so agents register theirs later and run first.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-e.served; !errors.Is(err, sshfront.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		_ = hs.Close()
		<-httpDone
		_ = e.reg.Close()
		if t.Failed() {
			t.Logf("gateway log:\n%s", e.logs.String())
		}
	})
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) createWorkspace(owner, name string) {
	e.t.Helper()
	tok := acl.NewSecret(acl.AgentTokenPrefix)
	must(e.t, e.store.CreateWorkspace(context.Background(), acl.Workspace{
		Owner: owner, Name: name, State: acl.StateRunning, AgentTokenHash: acl.HashToken(tok),
	}))
	e.tokens[owner+"/"+name] = tok
}

func (e *testEnv) share(ws acl.WorkspaceID, kind acl.SubjectKind, subject string, role acl.Role) {
	e.t.Helper()
	must(e.t, e.store.ApplyGrants(context.Background(), ws, []acl.GrantChange{{Kind: kind, Subject: subject, Role: role}}))
}

// runningAgent is a real agent connected through a real tunnel.
type runningAgent struct {
	key    string
	a      *agent.Agent
	cancel context.CancelFunc
	done   chan error
	dir    string
}

// startAgent runs the agent of workspace key and waits until the gateway
// sees its tunnel.
func (e *testEnv) startAgent(key string) *runningAgent {
	e.t.Helper()
	dir := e.t.TempDir()
	a, err := agent.New(agent.Config{Workspace: key, Dir: dir, Shell: "/bin/sh", Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("part", "agent")})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{key: key, a: a, cancel: cancel, done: make(chan error, 1), dir: dir}
	go func() {
		ra.done <- tunnel.Run(ctx, tunnel.ClientConfig{
			URL: e.httpURL, Token: e.tokens[key], Handler: a.HandleStream,
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
			Logger: slog.New(slog.DiscardHandler),
		})
	}()
	e.t.Cleanup(ra.stop)
	testutil.Eventually(e.t, "agent "+key+" connected", func() bool { return e.reg.Connected(e.uid(key)) })
	return ra
}

// uid is the UID of the workspace "owner/name": what tunnels are keyed by.
func (e *testEnv) uid(key string) string {
	e.t.Helper()
	id, err := acl.ParseWorkspaceID(key)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.workspace(id).UID
}

// workspace reads the workspace id from the store.
func (e *testEnv) workspace(id acl.WorkspaceID) acl.Workspace {
	e.t.Helper()
	w, err := e.store.GetWorkspace(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

// kill takes the agent's tunnel down under live sessions, as when the
// workspace's agent dies.
func (ra *runningAgent) kill() {
	ra.cancel()
	<-ra.done
	ra.done <- context.Canceled
}

func (ra *runningAgent) stop() {
	ra.cancel()
	<-ra.done
	ra.done <- context.Canceled
	_ = ra.a.Close()
}

// dial connects as user with their key, asking for login as the target.
func (e *testEnv) dial(user, login string) (*ssh.Client, error) {
	e.t.Helper()
	return e.dialWith(login, ssh.PublicKeys(e.keys[user]))
}

func (e *testEnv) dialWith(login string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	c, err := ssh.Dial("tcp", e.addr, &ssh.ClientConfig{
		User:            login,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(e.hostKey),
		Timeout:         5 * time.Second,
	})
	if err == nil {
		e.t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

func (e *testEnv) mustDial(user, login string) *ssh.Client {
	e.t.Helper()
	c, err := e.dial(user, login)
	if err != nil {
		e.t.Fatalf("dial as %s to %q: %v", user, login, err)
	}
	return c
}

// result is the outcome of one command run over SSH.
type result struct {
	stdout, stderr string
	exit           int // -1: no exit status
	err            error
}

// run runs cmd in a new session, feeding stdin when not nil.
func run(t *testing.T, c *ssh.Client, cmd string, stdin io.Reader) result {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer s.Close()
	var out, errb bytes.Buffer
	s.Stdout, s.Stderr, s.Stdin = &out, &errb, stdin
	err = s.Run(cmd)
	r := result{stdout: out.String(), stderr: errb.String(), exit: 0, err: err}
	var ee *ssh.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.exit = ee.ExitStatus()
	default:
		r.exit = -1
	}
	return r
}

// addUserWithKey creates user in st with a fresh key and returns the key.
func addUserWithKey(tb testing.TB, st acl.Store, user string) ssh.Signer {
	tb.Helper()
	if err := st.CreateUser(context.Background(), acl.User{Name: user}); err != nil {
		tb.Fatal(err)
	}
	return addKey(tb, st, user)
}

// addKey gives user a fresh key in st and returns it.
func addKey(tb testing.TB, st acl.Store, user string) ssh.Signer {
	tb.Helper()
	return addKeyFrom(tb, st, user, mustEd25519(tb))
}

// addKeyFrom gives user the key priv in st and returns it.
func addKeyFrom(tb testing.TB, st acl.Store, user string, priv ed25519.PrivateKey) ssh.Signer {
	tb.Helper()
	k, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.AddUserKey(context.Background(), user, acl.PublicKey{
		Fingerprint:   ssh.FingerprintSHA256(k.PublicKey()),
		AuthorizedKey: strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.PublicKey()))),
	}); err != nil {
		tb.Fatal(err)
	}
	return k
}
