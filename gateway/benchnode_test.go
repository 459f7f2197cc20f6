package gateway

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/redisstore"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/agentinfo"
	"github.com/wsgate/wsgate/gateway/internal/agentkeys"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/gateway/internal/sshfront"
	"github.com/wsgate/wsgate/tunnel"
)

// benchNode is one gateway replica of the revocation benchmarks, assembled
// as Server does (SSH front door, Revoker, agent tunnels on HTTP), on
// loopback: the first in the benchmark's process (its store client is the
// one that writes), any other in a process of its own (this test binary
// started again with benchReplicaEnv set), as replicas run: two in one
// process would share one heap to collect and one scheduler.
type benchNode struct {
	addr    string
	hostKey ssh.PublicKey
	url     string      // the agent tunnel's
	agentUp func() bool // the workspace's agent is connected here
	live    func() int  // the sessions the replica tracks
	gcs     func() int  // the garbage collections its process completed
}

// benchReplica is where a replica runs: with st in this process, or in a
// child process on the Redis at redisURL.
type benchReplica struct {
	st       acl.Store
	redisURL string
}

// startBenchNodes starts the replicas, and the workspace's agent (in a
// process of its own, as on a workspace host) connected to each.
func startBenchNodes(tb testing.TB, replicas []benchReplica, ws acl.WorkspaceID, agentToken string) []*benchNode {
	tb.Helper()
	var nodes []*benchNode
	for _, r := range replicas {
		if r.st != nil {
			nodes = append(nodes, startBenchNode(tb, r.st, ws))
		} else {
			nodes = append(nodes, startBenchReplica(tb, r.redisURL, ws))
		}
	}
	startBenchAgent(tb, nodes, ws, agentToken)
	return nodes
}

// benchEnv is what startBenchNode needs of a testing.TB, so that a child
// replica, which has none, can run it too.
type benchEnv interface {
	Helper()
	Fatal(args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

func startBenchNode(tb benchEnv, st acl.Store, ws acl.WorkspaceID) *benchNode {
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

	_, hostKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	host, err := ssh.NewSignerFromKey(hostKey)
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
		_ = hs.Close()
		<-httpDone
		_ = reg.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for !az.Live() {
		if time.Now().After(deadline) {
			tb.Fatal("revoker not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &benchNode{
		addr: ln.Addr().String(), hostKey: host.PublicKey(), url: "http://" + hln.Addr().String(),
		agentUp: func() bool { return reg.Connected(wsRec.UID) }, live: live.Len, gcs: gcCount,
	}
}

const (
	benchReplicaEnv   = "WSGATE_BENCH_REPLICA" // "1" in the child
	benchReplicaRedis = "WSGATE_BENCH_REPLICA_REDIS"
	benchReplicaWS    = "WSGATE_BENCH_REPLICA_WS"
)

// startBenchReplica starts a replica in a child process. The child says
// "node ADDR HOSTKEY URL" once serving, then answers "live" with
// "live N", "gcs" with "gcs N" and "agent" with "agent true|false"; it
// stops at the end of its input.
func startBenchReplica(tb testing.TB, redisURL string, ws acl.WorkspaceID) *benchNode {
	tb.Helper()
	in, outPipe := startBenchChild(tb, "bench replica", []string{benchReplicaEnv + "=1", benchReplicaRedis + "=" + redisURL, benchReplicaWS + "=" + ws.String()}, true, nil)
	out := bufio.NewScanner(outPipe)
	f := func() []string {
		if !out.Scan() {
			return nil
		}
		return strings.Fields(out.Text())
	}
	hello := f()
	if len(hello) != 4 || hello[0] != "node" {
		tb.Fatalf("bench replica said %q", hello)
	}
	wire, err := base64.StdEncoding.DecodeString(hello[2])
	if err != nil {
		tb.Fatal(err)
	}
	hk, err := ssh.ParsePublicKey(wire)
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	ask := func(q string) string {
		mu.Lock()
		defer mu.Unlock()
		if _, err := io.WriteString(in, q+"\n"); err != nil {
			return ""
		}
		if a := f(); len(a) == 2 && a[0] == q {
			return a[1]
		}
		return ""
	}
	askInt := func(q string) int {
		n, err := strconv.Atoi(ask(q))
		if err != nil {
			return -1
		}
		return n
	}
	return &benchNode{
		addr: hello[1], hostKey: hk, url: hello[3],
		agentUp: func() bool { return ask("agent") == "true" },
		live:    func() int { return askInt("live") },
		gcs:     func() int { return askInt("gcs") },
	}
}

// childEnv is a child replica's benchEnv: a failure ends the process.
type childEnv struct{ cleanups []func() }

func (*childEnv) Helper() {}
func (*childEnv) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"bench replica:"}, args...)...)
	os.Exit(1)
}
func (*childEnv) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench replica: "+format+"\n", args...)
}
func (e *childEnv) Cleanup(f func()) { e.cleanups = append(e.cleanups, f) }

// runBenchReplica is the child: one replica on the Redis it was given,
// until the end of in.
func runBenchReplica(in io.Reader, out io.Writer) int {
	env := &childEnv{}
	st, err := redisstore.New(redisstore.Config{URL: os.Getenv(benchReplicaRedis), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		env.Fatal(err)
	}
	ws, err := acl.ParseWorkspaceID(os.Getenv(benchReplicaWS))
	if err != nil {
		env.Fatal(err)
	}
	n := startBenchNode(env, st, ws)
	fmt.Fprintf(out, "node %s %s %s\n", n.addr, base64.StdEncoding.EncodeToString(n.hostKey.Marshal()), n.url)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "live":
			fmt.Fprintf(out, "live %d\n", n.live())
		case "gcs":
			fmt.Fprintf(out, "gcs %d\n", gcCount())
		case "agent":
			fmt.Fprintf(out, "agent %t\n", n.agentUp())
		}
	}
	for i := len(env.cleanups) - 1; i >= 0; i-- {
		env.cleanups[i]()
	}
	_ = st.Close()
	return 0
}
