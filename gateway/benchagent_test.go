package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/agent"
	"github.com/wsgate/wsgate/agent/agentkey"
	"github.com/wsgate/wsgate/tunnel"
)

// The revocation benchmarks run the workspace's agent in a child process
// (this test binary, started again with benchAgentEnv set), as it runs on
// the workspace's host: in the gateway's process its goroutines and heap
// would be the gateway's to schedule and collect. The child connects one
// agent to each replica's tunnel URL, all with one identity (one agent
// enrolled, the others sign with its key), and stops at the end of its
// input.
const (
	benchAgentEnv   = "WSGATE_BENCH_AGENT" // "1" in the child
	benchAgentURLs  = "WSGATE_BENCH_AGENT_URLS"
	benchAgentToken = "WSGATE_BENCH_AGENT_TOKEN"
	benchAgentState = "WSGATE_BENCH_AGENT_STATE" // the key store's directory
	benchAgentWS    = "WSGATE_BENCH_AGENT_WS"
)

// startBenchAgent starts the agent child for nodes and waits until each
// node has it connected; cleanup stops it.
func startBenchAgent(tb testing.TB, nodes []*benchNode, ws acl.WorkspaceID, token string) {
	tb.Helper()
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url)
	}
	startBenchChild(tb, "bench agent", []string{benchAgentEnv + "=1", benchAgentURLs + "=" + strings.Join(urls, ","),
		benchAgentToken + "=" + token, benchAgentState + "=" + tb.TempDir(), benchAgentWS + "=" + ws.String()}, false, nil)
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		for !n.agentUp() {
			if time.Now().After(deadline) {
				tb.Fatal("the agent did not connect")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// runBenchAgent is the child: it serves until the end of in.
func runBenchAgent(in io.Reader) int {
	quiet := slog.New(slog.DiscardHandler)
	ident, err := agentkey.Open(filepath.Join(os.Getenv(benchAgentState), agentkey.FileName("")), os.Getenv(benchAgentToken))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench agent:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var agents []*agent.Agent
	for _, url := range strings.Split(os.Getenv(benchAgentURLs), ",") {
		dir, err := os.MkdirTemp(os.Getenv(benchAgentState), "ws")
		var a *agent.Agent
		if err == nil {
			a, err = agent.New(agent.Config{Workspace: os.Getenv(benchAgentWS), Dir: dir, Shell: "/bin/sh", Logger: quiet, RotateKey: ident.Rotate})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench agent:", err)
			cancel()
			wg.Wait()
			return 1
		}
		agents = append(agents, a)
		wg.Go(func() {
			_ = tunnel.Run(ctx, tunnel.ClientConfig{
				URL: url, Identity: ident, Handler: a.HandleStream,
				MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: quiet,
			})
		})
	}
	_, _ = io.Copy(io.Discard, in)
	cancel()
	wg.Wait()
	for _, a := range agents {
		_ = a.Close()
	}
	return 0
}
