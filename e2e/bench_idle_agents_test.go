package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
)

// idleWorkspace is one workspace of BenchmarkIdleSessions and what its
// agent needs: its agent token and its --dir; index is its place among
// them (session i goes to workspace i mod k).
type idleWorkspace struct {
	index int
	id    acl.WorkspaceID
	token string
	dir   string
}

// idleAgentCount is WSGATE_BENCH_IDLE_AGENTS, by default the fewest agents
// whose shares of n sessions each fit, at idleAgentFDsPerSession
// descriptors a session plus 1024, under the hard RLIMIT_NOFILE: one agent
// process per workspace is what bounds the count, not the gateway (one
// descriptor a session) or this process (one).
func idleAgentCount(b testing.TB, n int) int {
	if v := os.Getenv("WSGATE_BENCH_IDLE_AGENTS"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k <= 0 || k > n {
			b.Fatalf("WSGATE_BENCH_IDLE_AGENTS=%q: want an agent count from 1 to the session count %d", v, n)
		}
		return k
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatalf("getrlimit: %v", err)
	}
	if lim.Max <= 1024+idleAgentFDsPerSession {
		return 1 // raiseNoFile skips, saying why
	}
	perAgent := int(min(lim.Max-1024, 1<<30) / idleAgentFDsPerSession)
	return min(n, (n+perAgent-1)/perAgent)
}

// seedIdleWorkspaces adds to the store in dir, before the server runs,
// alice's workspaces idle-ws-2 … idle-ws-k beside alice-ws (whose agent
// token is aliceToken), each with an agent token of its own, and returns
// all k.
func seedIdleWorkspaces(b testing.TB, dir, aliceToken string, k int) []idleWorkspace {
	b.Helper()
	ws := []idleWorkspace{{id: aliceWS, token: aliceToken, dir: filepath.Join(dir, "ws")}}
	if k == 1 {
		return ws
	}
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := 1; i < k; i++ {
		id := acl.WorkspaceID{Owner: "alice", Name: fmt.Sprintf("idle-ws-%d", i+1)}
		token := acl.NewSecret(acl.AgentTokenPrefix)
		err := st.CreateWorkspace(context.Background(), acl.Workspace{Owner: id.Owner, Name: id.Name, State: acl.StateRunning, AgentTokenHash: acl.HashToken(token)})
		if err != nil {
			b.Fatalf("create workspace %s: %v", id, err)
		}
		ws = append(ws, idleWorkspace{index: i, id: id, token: token, dir: filepath.Join(dir, id.Name)})
	}
	return ws
}

// idleClientConfigs is idleClientConfig for each workspace, in order.
func idleClientConfigs(b testing.TB, d *devEnv, wss []idleWorkspace) []*ssh.ClientConfig {
	b.Helper()
	base := idleClientConfig(b, d)
	cfgs := make([]*ssh.ClientConfig, len(wss))
	for i, w := range wss {
		cfg := *base
		cfg.User = w.id.String()
		cfgs[i] = &cfg
	}
	return cfgs
}

// sumSamples adds the samples of several processes (the agents) into one;
// goroutines stay -1 (unknown) when any one is.
func sumSamples(ss []procSample) procSample {
	var t procSample
	for _, s := range ss {
		t.rssKiB += s.rssKiB
		t.threads += s.threads
		t.fds += s.fds
		t.children += s.children
		if s.goroutines < 0 || t.goroutines < 0 {
			t.goroutines = -1
		} else {
			t.goroutines += s.goroutines
		}
	}
	return t
}
