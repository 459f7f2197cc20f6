package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/internal/testredis"
)

// benchSession is one session channel the bench clients hold (group: the
// open it came from) and when its client saw it close.
type benchSession struct {
	user   string
	group  int
	closed chan time.Time
}

// addBenchUser creates user in st with a fresh key and returns the key.
func addBenchUser(tb testing.TB, st acl.Store, user string) ed25519.PrivateKey {
	tb.Helper()
	if err := st.CreateUser(context.Background(), acl.User{Name: user}); err != nil {
		tb.Fatal(err)
	}
	priv := mustEd25519(tb)
	addKeyFrom(tb, st, user, priv)
	return priv
}

// BenchmarkRevokeDrop measures, for 1,000 live sessions, the time from a
// store write that revokes one user (of 100, 10 sessions each) to the
// close of each of that user's sessions as their client sees it. Each
// iteration revokes one user, then (untimed) shares again and reconnects.
// "two" spreads the sessions over two replicas on one Redis and writes
// through the first replica's store client only.
func BenchmarkRevokeDrop(b *testing.B) { onBenchBackends(b, benchRevoke) }

// onBenchBackends runs bench on one gateway with the file store, one
// gateway with Redis, and two replicas on one Redis, the second in a
// process of its own (writer is the first replica's store client).
func onBenchBackends(b *testing.B, bench func(b *testing.B, writer acl.Store, replicas []benchReplica)) {
	b.Run("one-gateway-filestore", func(b *testing.B) {
		st, err := filestore.New(filestore.Config{Path: filepath.Join(b.TempDir(), "acl.db"), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		bench(b, st, []benchReplica{{st: st}})
	})
	b.Run("one-gateway-redis", func(b *testing.B) {
		rs := testredis.Start(b)
		st := openBenchRedis(b, rs)
		bench(b, st, []benchReplica{{st: st}})
	})
	b.Run("two-gateways-redis", func(b *testing.B) {
		rs := testredis.Start(b)
		writer := openBenchRedis(b, rs)
		bench(b, writer, []benchReplica{{st: writer}, {redisURL: rs.URL()}})
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

func benchRevoke(b *testing.B, writer acl.Store, replicas []benchReplica) {
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
	keys := map[string]ed25519.PrivateKey{}
	var names []string
	for i := range users {
		name := fmt.Sprintf("u%03d", i)
		keys[name] = addBenchUser(b, writer, name)
		names = append(names, name)
		must(writer.ApplyGrants(ctx, ws, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: name, Role: acl.RoleUse}}))
	}
	nodes := startBenchNodes(b, replicas, ws, agentToken)
	clients := startBenchClients(b)
	connect := func(user string) []*benchSession {
		return clients.open(b, nodes, user, keys[user], ws.String(), perUser)
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
		clients.close(b, live[victim])
		live[victim] = connect(victim)
		b.StartTimer()
	}
	b.StopTimer()
	reportLatencies(b, samples)
	b.ReportMetric(float64(users*perUser), "live-sessions")
}

// liveBench counts the sessions the replicas track.
func liveBench(nodes []*benchNode) int {
	n := 0
	for _, nd := range nodes {
		n += nd.live()
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
