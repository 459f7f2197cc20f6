package gateway

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"os"
	"runtime"
	"runtime/pprof"

	"github.com/wsgate/wsgate/acl"
)

// BenchmarkRevokeMass measures a mass revoke: of 1,000 live sessions on
// alice's workspace, the 500 that rest on the group contractors' grant
// (50 members, 10 sessions each) end by one write that removes that
// grant; the other 500 (50 users with direct grants) stay. Each sample
// is the time from just before the write to a client seeing its channel
// close; every iteration gives 500. Untimed, each iteration then checks
// that the other 500 are still open, shares again and reconnects.
func BenchmarkRevokeMass(b *testing.B) { onBenchBackends(b, benchRevokeMass) }

func benchRevokeMass(b *testing.B, writer acl.Store, replicas []benchReplica) {
	const (
		groupUsers, directUsers, perUser = 50, 50, 10
		group                            = "contractors"
		revoked                          = groupUsers * perUser
		total                            = (groupUsers + directUsers) * perUser
	)
	// Each session holds a client and a server socket in this process
	// (agent streams share one connection); 3 a session leaves margin.
	// Go already raises the soft limit to the hard one at start.
	requireNoFile(b, 3*total)
	ctx := context.Background()
	ws := acl.WorkspaceID{Owner: "alice", Name: "ws"}
	agentToken := acl.NewSecret(acl.AgentTokenPrefix)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(writer.CreateUser(ctx, acl.User{Name: "alice"}))
	must(writer.CreateWorkspace(ctx, acl.Workspace{Owner: "alice", Name: "ws", State: acl.StateRunning, AgentTokenHash: acl.HashToken(agentToken)}))
	must(writer.CreateGroup(ctx, acl.Group{Name: group}))
	keys := map[string]ed25519.PrivateKey{}
	var members, direct []string
	for i := range groupUsers {
		name := fmt.Sprintf("c%02d", i)
		keys[name] = addBenchUser(b, writer, name)
		must(writer.AddGroupMember(ctx, group, name))
		members = append(members, name)
	}
	for i := range directUsers {
		name := fmt.Sprintf("d%02d", i)
		keys[name] = addBenchUser(b, writer, name)
		must(writer.ApplyGrants(ctx, ws, []acl.GrantChange{{Kind: acl.SubjectUser, Subject: name, Role: acl.RoleUse}}))
		direct = append(direct, name)
	}
	share := []acl.GrantChange{{Kind: acl.SubjectGroup, Subject: group, Role: acl.RoleUse}}
	unshare := []acl.GrantChange{{Kind: acl.SubjectGroup, Subject: group, Role: acl.RoleNone}}
	must(writer.ApplyGrants(ctx, ws, share))

	nodes := startBenchNodes(b, replicas, ws, agentToken)
	// connect opens users' sessions, a few users at a time so that the
	// handshakes stay under the front door's unauthenticated limit.
	clients := startBenchClients(b)
	connect := func(users []string) []*benchSession {
		out := make([][]*benchSession, len(users))
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				out[i] = clients.open(b, nodes, u, keys[u], ws.String(), perUser)
			}()
		}
		wg.Wait()
		var all []*benchSession
		for _, ss := range out {
			all = append(all, ss...)
		}
		return all
	}
	stay := connect(direct)
	gone := connect(members)
	waitLive(b, nodes, total)
	// stayed checks that no session of the direct users has closed.
	stayed := func() {
		for _, s := range stay {
			select {
			case <-s.closed:
				b.Fatalf("a session of %s, who has a direct grant, was dropped", s.user)
			default:
			}
		}
	}

	samples := make([]time.Duration, 0, b.N*revoked)
	// WSGATE_BENCH_CPUPROFILE_DIR: a CPU profile of each revoke window (the
	// write to the last teardown), window-NNN.prof, to merge with
	// `go tool pprof -proto DIR/*.prof`.
	profDir := os.Getenv("WSGATE_BENCH_CPUPROFILE_DIR")
	gcWindows := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stopProfile := profileWindow(b, profDir, i)
		gcs := gcsOf(nodes)
		start := time.Now()
		must(writer.ApplyGrants(ctx, ws, unshare))
		deadline := time.NewTimer(10 * time.Second)
		for _, s := range gone {
			select {
			case at := <-s.closed:
				samples = append(samples, at.Sub(start))
			case <-deadline.C:
				b.Fatalf("a session of %s was not dropped", s.user)
			}
		}
		deadline.Stop()
		b.StopTimer()
		if gcsOf(nodes) != gcs {
			gcWindows++
		}
		// The revoked ones leave the registries; the others must stay.
		waitLive(b, nodes, total-revoked)
		stopProfile()
		stayed()
		must(writer.ApplyGrants(ctx, ws, share))
		clients.close(b, gone)
		gone = connect(members)
		waitLive(b, nodes, total)
		b.StartTimer()
	}
	b.StopTimer()
	stayed()
	reportLatencies(b, samples)
	b.ReportMetric(float64(total), "live-sessions")
	b.ReportMetric(float64(revoked), "revoked-sessions")
	// A garbage collection in a replica during a window (chance, as in
	// production) is what most tails here come with.
	b.ReportMetric(float64(gcWindows)/float64(b.N), "windows-with-gc/op")
}

// gcCount is how many garbage collections this process has completed.
func gcCount() int {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int(ms.NumGC)
}

// gcsOf is how many garbage collections the replicas' processes have
// completed.
func gcsOf(nodes []*benchNode) int {
	n := 0
	for _, nd := range nodes {
		n += nd.gcs()
	}
	return n
}

// profileWindow starts a CPU profile of window i in dir (none when dir is
// empty) and returns what stops it.
func profileWindow(b *testing.B, dir string, i int) (stop func()) {
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("window-%03d.prof", i)))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}

// requireNoFile fails the benchmark early, with the reason, when the
// open-file limit cannot hold need descriptors.
func requireNoFile(tb testing.TB, need uint64) {
	tb.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatalf("getrlimit: %v", err)
	}
	if lim.Cur < need {
		tb.Fatalf("open-file limit %d is below the %d this benchmark needs; raise it (ulimit -n)", lim.Cur, need)
	}
}
