package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/internal/testredis"
	"github.com/wsgate/wsgate/internal/testutil"
)

var (
	aliceWS = acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}
	teamWS  = acl.WorkspaceID{Owner: "alice", Name: "team-ws"}
)

// replicas are two `wsgate server` processes on one Redis: a serves
// alice/team-ws's agent, b alice/alice-ws's. b reaches Redis at bRedis
// (through a proxy when the test wants to cut it off).
func startReplicas(t *testing.T, rs *testredis.Server, bRedis string) (a, b *devEnv) {
	t.Helper()
	dirA, dirB := t.TempDir(), t.TempDir()
	st, err := redisstore.New(redisstore.Config{URL: rs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	tokens := seedRevokeStore(t, st, dirA, teamWS)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	copyUsers(t, dirA, dirB)
	a = startServer(t, dirA, "--redis-url", rs.URL())
	b = startServer(t, dirB, "--redis-url", bRedis)
	startWorkspaceAgent(t, a.url, tokens[teamWS], teamWS, filepath.Join(dirA, "ws"))
	startWorkspaceAgent(t, b.url, tokens[aliceWS], aliceWS, filepath.Join(dirB, "ws"))
	a.waitAgent(t, "alice", "alice/team-ws")
	b.waitAgent(t, "alice", "alice/alice-ws")
	return a, b
}

// TestRevokeAcrossReplicas: a revoke sent to replica A drops bob's session
// held on replica B, and leaves his session on A's other workspace alone.
func TestRevokeAcrossReplicas(t *testing.T) {
	requireTool(t, "ssh")
	rs := testredis.Start(t)
	a, b := startReplicas(t, rs, rs.URL())
	a.cli(t, "alice", "sharing", "share", "alice/alice-ws", "--user", "bob")
	a.cli(t, "alice", "sharing", "share", "alice/team-ws", "--user", "bob")

	bobOnB := b.live(t, "bob", "alice/alice-ws")
	aliceOnB := b.live(t, "alice", "alice/alice-ws")
	bobOnA := a.live(t, "bob", "alice/team-ws")
	start := time.Now()
	a.cli(t, "alice", "sharing", "remove", "alice/alice-ws", "--user", "bob")
	bobOnB.expectDropped(t, start, "access to alice/alice-ws was revoked")
	if r := b.sshRun(t, "alice", "alice/alice-ws", nil, "echo ok"); r.stdout != "ok\n" {
		t.Fatalf("alice on B after the drop: %+v", r)
	}
	aliceOnB.expectAlive(t)
	bobOnA.expectAlive(t)
	if v := metric(b.metrics(t), `wsgate_revocations_total{reason="revoked"}`); v != "1" {
		t.Errorf("B's wsgate_revocations_total{reason=\"revoked\"} = %q, want 1", v)
	}
}

// TestRevokeRedisOutage: Redis stopped and restarted under live sessions
// drops nothing (best_effort); a revoke written while replica B was cut off
// from Redis is applied when B reconnects.
func TestRevokeRedisOutage(t *testing.T) {
	requireTool(t, "ssh")
	rs := testredis.Start(t, testredis.WithPersistence())
	px := startTCPProxy(t, rs.Addr())
	a, b := startReplicas(t, rs, "redis://"+px.addr()+"/0")
	a.cli(t, "alice", "sharing", "share", "alice/alice-ws", "--user", "bob")
	a.cli(t, "alice", "sharing", "share", "alice/team-ws", "--user", "bob")
	aliceOnB := b.live(t, "alice", "alice/alice-ws")
	bobOnB := b.live(t, "bob", "alice/alice-ws")
	bobOnA := a.live(t, "bob", "alice/team-ws")
	lives := []*liveSSH{aliceOnB, bobOnB, bobOnA}

	const (
		unreachable = "access store unreachable"
		feedBack    = "event feed back; subscribers resync"
	)
	logged := func(d *devEnv, text string, atLeast int) func() bool {
		return func() bool { return strings.Count(d.proc.out.String(), text) >= atLeast }
	}

	// Redis goes away and comes back with its data.
	rs.Stop(t)
	testutil.WaitFor(t, 15*time.Second, "A notices the outage", logged(a, unreachable, 1))
	testutil.WaitFor(t, 15*time.Second, "B notices the outage", logged(b, unreachable, 1))
	for _, l := range lives {
		l.expectAlive(t)
	}
	// Within the grace, B lets in from its cache whom it has seen, and
	// tells whom it has not why it cannot.
	if r := b.sshRun(t, "bob", "alice/alice-ws", nil, "echo cached"); r.stdout != "cached\n" {
		t.Fatalf("bob on B during the outage: %+v", r)
	}
	r := b.sshRunLoud(t, "carol", "alice/alice-ws", "true")
	if r.code == 0 {
		t.Fatal("carol got in while B could not check her")
	}
	mustContain(t, "carol during the outage", r.stderr, "wsgate: cannot check access right now: the access store is unreachable")
	rs.Restart(t)
	testutil.WaitFor(t, 15*time.Second, "A's feed back", logged(a, feedBack, 1))
	testutil.WaitFor(t, 15*time.Second, "B's feed back", logged(b, feedBack, 1))
	// New sessions work again (the store answers), and the re-check after
	// the resync kept every live session.
	if r := b.sshRun(t, "bob", "alice/alice-ws", nil, "echo ok"); r.stdout != "ok\n" {
		t.Fatalf("bob on B after the restart: %+v", r)
	}
	for _, l := range lives {
		l.expectAlive(t)
	}

	// B is cut off; the revoke reaches Redis through A while B cannot hear.
	lost := strings.Count(b.proc.out.String(), "event feed lost")
	feedBacks := strings.Count(b.proc.out.String(), feedBack)
	px.setCut(true)
	testutil.WaitFor(t, 15*time.Second, "B notices the cut", logged(b, "event feed lost", lost+1))
	a.cli(t, "alice", "sharing", "remove", "alice/alice-ws", "--user", "bob")
	bobOnB.expectAlive(t)
	px.setCut(false)
	restored := time.Now()
	testutil.WaitFor(t, 15*time.Second, "B's feed back after the cut", logged(b, feedBack, feedBacks+1))
	select {
	case <-bobOnB.done:
	case <-time.After(10 * time.Second):
		t.Fatal("bob's session on B survived B's reconnect")
	}
	t.Logf("bob dropped %v after B's link came back", bobOnB.ended.Sub(restored))
	mustContain(t, "bob on B", bobOnB.stderr.String(), "wsgate: access to alice/alice-ws was revoked")
	aliceOnB.expectAlive(t)
	bobOnA.expectAlive(t)
}

// tcpProxy forwards loopback TCP connections to target; while cut, it
// closes every connection and refuses new ones, as a broken link would.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cut    bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.setCut(true)
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			_ = c.Close()
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		up, err := (&net.Dialer{}).DialContext(ctx, "tcp", p.target)
		cancel()
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c, up) {
			continue
		}
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// track registers a pair; false (and both closed) when the link was cut
// meanwhile.
func (p *tcpProxy) track(a, b net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		_ = a.Close()
		_ = b.Close()
		return false
	}
	p.conns[a], p.conns[b] = struct{}{}, struct{}{}
	return true
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

func (p *tcpProxy) setCut(cut bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = cut
	if cut {
		for c := range p.conns {
			_ = c.Close()
		}
	}
}

// TestRevokeStrictLockMode: with --lock-mode strict, live sessions end once
// the store has been unreachable for --store-grace, and new ones are
// refused with the reason.
func TestRevokeStrictLockMode(t *testing.T) {
	requireTool(t, "ssh")
	rs := testredis.Start(t)
	dir := t.TempDir()
	st, err := redisstore.New(redisstore.Config{URL: rs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	tokens := seedRevokeStore(t, st, dir)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	d := startServer(t, dir, "--redis-url", rs.URL(), "--lock-mode", "strict", "--store-grace", "1s")
	startWorkspaceAgent(t, d.url, tokens[aliceWS], aliceWS, filepath.Join(dir, "ws"))
	d.waitAgent(t, "alice", "alice-ws")
	alice := d.live(t, "alice", "alice-ws")
	rs.Stop(t)
	stopped := time.Now()
	select {
	case <-alice.done:
	case <-time.After(15 * time.Second):
		t.Fatal("alice's session outlived the grace in strict mode")
	}
	if after := alice.ended.Sub(stopped); after < time.Second {
		t.Fatalf("dropped %v after Redis stopped, before the 1s grace", after)
	}
	mustContain(t, "alice", alice.stderr.String(), "wsgate: access can no longer be checked: the access store is unreachable")
	r := d.sshRunLoud(t, "alice", "alice-ws", "true")
	if r.code == 0 {
		t.Fatal("a new session got in past the grace")
	}
	mustContain(t, "new session", r.stderr, "wsgate: cannot check access right now: the access store is unreachable")
}

// TestRevokeFlagsValidated: a bad --lock-mode stops the server at start.
func TestRevokeFlagsValidated(t *testing.T) {
	r := run(t, 30*time.Second, nil, wsgateBin, "server", "--data-dir", t.TempDir(), "--lock-mode", "sometimes")
	if r.code == 0 {
		t.Fatal("server started with --lock-mode sometimes")
	}
	mustContain(t, "stderr", r.stderr, `invalid lock mode "sometimes": expected best_effort or strict`)
}
