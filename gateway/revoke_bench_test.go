package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/agent/agentkey"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/agentinfo"
	"github.com/wsgate/wsgate/gateway/internal/agentkeys"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/gateway/internal/sshfront"
	"github.com/wsgate/wsgate/internal/testredis"
	"github.com/wsgate/wsgate/tunnel"
)

// benchNode is one gateway replica assembled as Server does (SSH front
// door, Revoker, agent tunnels on HTTP) with the workspace's agent
// connected to it, all on loopback.
type benchNode struct {
	addr    string
	hostKey ssh.PublicKey
	srv     *sshfront.Server
	live    *sessions.Registry
}

func startBenchNode(tb testing.TB, st acl.Store, ws acl.WorkspaceID, agentToken string) *benchNode {
	tb.Helper()
	quiet := slog.New(slog.DiscardHandler)
	wsRec, err := st.GetWorkspace(context.Background(), ws)
	if err != nil {
		tb.Fatal(err)
	}
	// As Server wires it: the revoker (built below, before the agent
	// connects) ends revoked users' processes through the agent.
	var rv *revoke.Revoker
	reg := tunnel.NewRegistry(tunnel.RegistryConfig{
		Logger:       quiet,
		OnConnect:    func(uid string) { rv.AgentConnected(uid) },
		OnDisconnect: func(uid string) { rv.AgentDisconnected(uid) },
	})
	// Agent identity as Server wires it: enrolment, signed upgrades, and
	// the key rotated when an exposed user loses access.
	secret, err := st.Secret(context.Background(), agentkeys.NonceSecret)
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	auth, err := agentkeys.NewAuth(st, secret, "http://"+hln.Addr().String(), quiet)
	if err != nil {
		tb.Fatal(err)
	}
	mux.Handle(tunnel.ConnectPath, reg.AgentHandler(auth.Authenticate))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	httpDone := make(chan struct{})
	go func() { defer close(httpDone); _ = hs.Serve(hln) }()

	host, err := ssh.NewSignerFromKey(mustEd25519(tb))
	if err != nil {
		tb.Fatal(err)
	}
	az, err := access.New(access.Config{Store: st, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	var keys *agentkeys.Keys
	live, err := sessions.NewRegistry(sessions.Config{Gen: az.Gen, OnTrack: func(i sessions.Info) { keys.OnTrack(i) }})
	if err != nil {
		tb.Fatal(err)
	}
	if keys, err = agentkeys.NewKeys(agentkeys.KeysConfig{Store: st, Agents: reg, Sessions: live, Logger: quiet}); err != nil {
		tb.Fatal(err)
	}
	srv, err := sshfront.New(sshfront.Config{
		Access: az, Sessions: live, Agents: reg, HostSigner: host, Logger: quiet, MaxUnauthenticated: 256,
		// All clients come from 127.0.0.1, many handshakes at once: no
		// pre-auth limit but the cap above (a zero Limits is none).
		Startups: &edge.Limits{},
	})
	if err != nil {
		tb.Fatal(err)
	}
	rv, err = revoke.New(revoke.Config{Store: st, Access: az, Sessions: live, Agents: reg, AgentKeys: keys, Logger: quiet, Processes: agentinfo.New(reg, live)})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	rctx, stopRev := context.WithCancel(context.Background())
	revDone := make(chan error, 1)
	go func() { revDone <- rv.Run(rctx) }()

	ident := benchIdentity(tb, agentToken)
	a, err := agent.New(agent.Config{Workspace: ws.String(), Dir: tb.TempDir(), Shell: "/bin/sh", Logger: quiet, RotateKey: ident.Rotate})
	if err != nil {
		tb.Fatal(err)
	}
	actx, stopAgent := context.WithCancel(context.Background())
	agentDone := make(chan error, 1)
	go func() {
		agentDone <- tunnel.Run(actx, tunnel.ClientConfig{
			URL: "http://" + hln.Addr().String(), Identity: ident, Handler: a.HandleStream,
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: quiet,
		})
	}()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, sshfront.ErrServerClosed) {
			tb.Errorf("serve: %v", err)
		}
		stopRev()
		if err := <-revDone; err != nil {
			tb.Errorf("revoker: %v", err)
		}
		stopAgent()
		<-agentDone
		_ = a.Close()
		_ = hs.Close()
		<-httpDone
		_ = reg.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for !reg.Connected(wsRec.UID) || !az.Live() {
		if time.Now().After(deadline) {
			tb.Fatal("agent or revoker not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &benchNode{addr: ln.Addr().String(), hostKey: host.PublicKey(), srv: srv, live: live}
}

// benchIdentities: the replicas of one benchmark share their workspace's
// agent identity (one agent enrolled, the others sign with its key).
var benchIdentities sync.Map // token → *agentkey.Store

func benchIdentity(tb testing.TB, token string) *agentkey.Store {
	if ks, ok := benchIdentities.Load(token); ok {
		return ks.(*agentkey.Store)
	}
	ks := agentIdentity(tb, token)
	got, _ := benchIdentities.LoadOrStore(token, ks)
	return got.(*agentkey.Store)
}

// benchSession is one held session channel and when the client saw it
// close.
type benchSession struct {
	user   string
	client *ssh.Client
	closed chan time.Time
}

func (n *benchNode) hold(tb testing.TB, user string, key ssh.Signer, ws acl.WorkspaceID) *benchSession {
	c, err := ssh.Dial("tcp", n.addr, &ssh.ClientConfig{
		User: ws.String(), Auth: []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: ssh.FixedHostKey(n.hostKey), Timeout: 10 * time.Second,
	})
	if err != nil {
		tb.Fatalf("dial as %s: %v", user, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		tb.Fatalf("session as %s: %v", user, err)
	}
	go ssh.DiscardRequests(reqs)
	bs := &benchSession{user: user, client: c, closed: make(chan time.Time, 1)}
	go func() {
		buf := make([]byte, 256)
		for {
			if _, err := ch.Read(buf); err != nil {
				bs.closed <- time.Now()
				return
			}
		}
	}()
	return bs
}

// BenchmarkRevokeDrop measures, for 1,000 live sessions, the time from a
// store write that revokes one user (of 100, 10 sessions each) to the
// close of each of that user's sessions as their client sees it. Each
// iteration revokes one user, then (untimed) shares again and reconnects.
// "two" spreads the sessions over two replicas on one Redis and writes
// through the first replica's store client only.
func BenchmarkRevokeDrop(b *testing.B) { onBenchBackends(b, benchRevoke) }

// onBenchBackends runs bench on one gateway with the file store, one
// gateway with Redis, and two replicas on one Redis (writer is then the
// first replica's store client).
func onBenchBackends(b *testing.B, bench func(b *testing.B, writer acl.Store, replicas []acl.Store)) {
	b.Run("one-gateway-filestore", func(b *testing.B) {
		st, err := filestore.New(filestore.Config{Path: filepath.Join(b.TempDir(), "acl.db"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		bench(b, st, []acl.Store{st})
	})
	b.Run("one-gateway-redis", func(b *testing.B) {
		rs := testredis.Start(b)
		bench(b, openBenchRedis(b, rs), []acl.Store{openBenchRedis(b, rs)})
	})
	b.Run("two-gateways-redis", func(b *testing.B) {
		rs := testredis.Start(b)
		writer := openBenchRedis(b, rs)
		bench(b, writer, []acl.Store{writer, openBenchRedis(b, rs)})
	})
}

func openBenchRedis(tb testing.TB, rs *testredis.Server) acl.Store {
	st, err := redisstore.New(redisstore.Config{URL: rs.URL(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

func benchRevoke(b *testing.B, writer acl.Store, replicas []acl.Store) {
	const users, perUser = 100, 10
	ctx := context.Background()
	ws := acl.WorkspaceID{Owner: "owner", Name: "ws"}
	agentToken := acl.NewSecret(acl.AgentTokenPrefix)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(writer.CreateUser(ctx, acl.User{Name: "owner"}))
	must(writer.CreateWorkspace(ctx, acl.Workspace{Owner: "owner", Name: "ws", State: acl.StateRunning, AgentTokenHash: acl.HashToken(agentToken)}))
	keys := map[string]ssh.Signer{}
	var names []string
	for i := range users {
		name := fmt.Sprintf("u%03d", i)
		keys[name] = addUserWithKey(b, writer, name)
		names = append(names, name)
		must(writer.ApplyGrants(ctx, ws, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: name, Role: acl.RoleUse}}))
	}
	var nodes []*benchNode
	for _, st := range replicas {
		nodes = append(nodes, startBenchNode(b, st, ws, agentToken))
	}
	connect := func(user string) []*benchSession {
		return connectBench(b, nodes, user, keys[user], ws, perUser)
	}
	live := map[string][]*benchSession{}
	for _, u := range names {
		live[u] = connect(u)
	}
	waitLive(b, nodes, users*perUser)

	var samples []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		victim := names[i%users]
		start := time.Now()
		must(writer.ApplyGrants(ctx, ws, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: victim, Role: acl.RoleNone}}))
		for _, s := range live[victim] {
			select {
			case at := <-s.closed:
				samples = append(samples, at.Sub(start))
			case <-time.After(10 * time.Second):
				b.Fatalf("a session of %s was not dropped", victim)
			}
		}
		b.StopTimer()
		must(writer.ApplyGrants(ctx, ws, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: victim, Role: acl.RoleUse}}))
		for _, s := range live[victim] {
			_ = s.client.Close()
		}
		live[victim] = connect(victim)
		b.StartTimer()
	}
	b.StopTimer()
	reportLatencies(b, samples)
	b.ReportMetric(float64(users*perUser), "live-sessions")
}

// connectBench opens n sessions as user at once, spread over the replicas.
func connectBench(tb testing.TB, nodes []*benchNode, user string, key ssh.Signer, ws acl.WorkspaceID, n int) []*benchSession {
	out := make([]*benchSession, n)
	var wg sync.WaitGroup
	for j := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[j] = nodes[j%len(nodes)].hold(tb, user, key, ws)
		}()
	}
	wg.Wait()
	return out
}

// liveBench counts the sessions the replicas track.
func liveBench(nodes []*benchNode) int {
	n := 0
	for _, nd := range nodes {
		n += nd.live.Len()
	}
	return n
}

// waitLive waits until the replicas track exactly want sessions:
// registration follows the client's channel open, and removal its close.
func waitLive(tb testing.TB, nodes []*benchNode, want int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for liveBench(nodes) != want {
		if time.Now().After(deadline) {
			tb.Fatalf("replicas track %d sessions, want %d", liveBench(nodes), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reportLatencies reports the p50, p99 and max of samples in
// milliseconds; it sorts samples.
func reportLatencies(b *testing.B, samples []time.Duration) {
	if len(samples) == 0 {
		b.Fatal("no latency samples")
	}
	slices.Sort(samples)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	pct := func(p float64) float64 { return ms(samples[int(p*float64(len(samples)-1))]) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(ms(samples[len(samples)-1]), "max-ms")
}

func mustEd25519(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}
