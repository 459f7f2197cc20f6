package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// BenchmarkIdleSessions is the memory an idle session costs the gateway
// and the agent, each its own process as in production: one Go client
// process (this test) opens WSGATE_BENCH_IDLE (default 2000) SSH
// connections through one `wsgate server`, each with one session running
// `sleep 3600` in a `wsgate agent`, and compares the processes before and
// after. The sessions are spread round-robin over k workspaces, each served
// by its own agent (k from WSGATE_BENCH_IDLE_AGENTS, by default the fewest
// whose shares fit under the hard RLIMIT_NOFILE, see idleAgentCount; k=1
// is alice-ws alone), since an agent holds idleAgentFDsPerSession
// descriptors a session and the hard limit may not be raised; the gateway
// and this process hold all N. The sleep processes themselves are not
// counted (they are the workspace's, not wsgate's). Figures (gateway-…,
// agent-…, the agent's summed over the k agents and divided by N, so each
// agent's own baseline is charged to the sessions only by its growth, and
// the k baselines are in agent-rss-MiB):
//
//   - rss-KiB/session: (VmRSS after − before) / N, from /proc/<pid>/status,
//     each read once two reads a second apart agree within 3 % for every
//     process; the gateway's after a forced GC (pprof heap?gc=1), the
//     agents' as their own GC left them (they serve no pprof);
//   - goroutines/session: the gateway's from its pprof goroutine profile
//     (--pprof-addr; /metrics has no go_goroutines). `wsgate agent` has no
//     pprof listener, so its count comes from the runtime's SIGQUIT dump,
//     which ends it: the k dumps with N sessions open less k times the
//     dump of another agent started the same way and left idle after one
//     session;
//   - threads/session and fds/session: /proc/<pid>/status Threads and the
//     entries of /proc/<pid>/fd;
//   - rss-MiB, goroutines, threads: the totals with N sessions open;
//     agents: k.
//
// Each agent is ended by the dump, so its sleeps are killed by process
// group (they would otherwise outlive it by an hour) and the gateway, seeing the
// agents gone, ends the N sessions; the benchmark waits for
// wsgate_sessions_active to drop to 0, so it stops by itself.
//
//	WSGATE_BENCH_IDLE=2000 go test -run '^$' -bench '^BenchmarkIdleSessions$' -benchtime 1x -v ./e2e
func BenchmarkIdleSessions(b *testing.B) {
	n := idleSessionCount(b)
	k := idleAgentCount(b, n)
	raiseNoFile(b, (n+k-1)/k, idleAgentFDsPerSession, fmt.Sprintf("each of %d agents", k))
	raiseNoFile(b, n, idleGatewayFDsPerSession, "the gateway and this process")
	// The agent starts commands with $SHELL: sh, no login files to read.
	b.Setenv("SHELL", "/bin/sh")
	dir := b.TempDir()
	wss := seedIdleWorkspaces(b, dir, seedServer(b, dir), k)
	pprofAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(b)))
	d := startServer(b, dir, "--pprof-addr", pprofAddr, benchStartups)
	gw := &procMeter{name: "gateway", pid: d.proc.cmd.Process.Pid, pprof: "http://" + pprofAddr}
	metrics := d.metricsPage()
	addr := net.JoinHostPort(d.sshHost, d.sshPort)
	cfgs := idleClientConfigs(b, d, wss)
	startAgent := func(w idleWorkspace) (*proc, *procMeter) {
		p := startProc(b, []string{"WSGATE_AGENT_TOKEN=" + w.token},
			"agent", "--url", d.url, "--dir", w.dir, "--workspace", w.id.String(), "--run-as", selfUser(b),
			"--state-dir", agentStateDir(w.dir))
		m := &procMeter{name: "agent of " + w.id.String(), pid: p.cmd.Process.Pid}
		waitIdleReady(b, addr, cfgs[w.index])
		waitIdle(b, metrics, []*procMeter{m}, 0, 0)
		return p, m
	}

	// An agent's goroutines with no session, from a dump of an agent
	// that served one.
	idle, _ := startAgent(wss[0])
	time.Sleep(settleWait)
	agentIdleGoroutines := dumpGoroutines(b, idle)

	var gwBefore, gwAfter, agBefore, agAfter procSample
	var agsBefore, agsAfter []procSample
	var open, teardown time.Duration
	for b.Loop() {
		agents := make([]*proc, k)
		ams := make([]*procMeter, k)
		for i, w := range wss {
			agents[i], ams[i] = startAgent(w)
		}
		meters := append([]*procMeter{gw}, ams...)
		s := settled(b, meters...)
		gwBefore, agsBefore = s[0], s[1:]
		agBefore = sumSamples(agsBefore)
		start := time.Now()
		clients := openIdleSessions(b, addr, cfgs, n)
		open = time.Since(start)
		b.Cleanup(func() { closeIdleSessions(clients) }) // when a wait below fails
		waitIdle(b, metrics, ams, n, agBefore.children+n)
		s = settled(b, meters...)
		gwAfter, agsAfter = s[0], s[1:]
		agAfter = sumSamples(agsAfter)
		var sleeps []int
		for _, m := range ams {
			sleeps = append(sleeps, m.childPIDs(b)...)
		}
		agAfter.goroutines = 0
		for i, p := range agents {
			g := dumpGoroutines(b, p)
			agsAfter[i].goroutines = g
			agAfter.goroutines += g
		}
		agBefore.goroutines = int64(k) * agentIdleGoroutines
		for _, pid := range sleeps {
			// The agent starts each program in a process group of its own,
			// so the group is the session's processes. ESRCH: it ended
			// with the agent after all.
			if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				b.Errorf("kill process group %d: %v", pid, err)
			}
		}
		closeIdleSessions(clients)
		lost := time.Now()
		waitSessions(b, metrics, 0, 10*time.Minute)
		teardown = time.Since(lost)
	}
	reportIdle(b, n, "gateway", gwBefore, gwAfter)
	reportIdle(b, n, "agent", agBefore, agAfter)
	b.ReportMetric(float64(k), "agents")
	b.ReportMetric(open.Seconds(), "open-s")
	b.Logf("%d idle sessions over %d agents, opened in %s; after the agents' dumps ended them and the clients closed, the gateway took %s to count 0 sessions",
		n, k, open.Round(time.Millisecond), teardown.Round(time.Millisecond))
	b.Logf("gateway (wsgate server): before %s; after %s", gwBefore, gwAfter)
	b.Logf("%d agents (wsgate agent), summed: before %s; after %s (goroutines from SIGQUIT dumps, system goroutines included; before is %d × an idle agent's %d)",
		k, agBefore, agAfter, k, agentIdleGoroutines)
	if k > 1 {
		for i, w := range wss {
			b.Logf("agent of %s: before %s; after %s", w.id, agsBefore[i], agsAfter[i])
		}
	}
}

// BenchmarkIdleSessionsDev is BenchmarkIdleSessions on `wsgate dev`, the
// gateway and the agent in ONE process, so every figure is both sides
// combined (dev-…); it is here to compare with the split figures.
func BenchmarkIdleSessionsDev(b *testing.B) {
	n := idleSessionCount(b)
	raiseNoFile(b, n, idleDevFDsPerSession, "the dev process")
	b.Setenv("SHELL", "/bin/sh")
	pprofAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(b)))
	d := startDev(b, "--pprof-addr", pprofAddr, benchStartups)
	m := &procMeter{name: "dev", pid: d.proc.cmd.Process.Pid, pprof: "http://" + pprofAddr}
	metrics := d.metricsPage()
	cfg := idleClientConfig(b, d)
	addr := net.JoinHostPort(d.sshHost, d.sshPort)
	waitIdleReady(b, addr, cfg)
	waitIdle(b, metrics, []*procMeter{m}, 0, 0)

	var before, after procSample
	var open time.Duration
	for b.Loop() {
		before = settled(b, m)[0]
		start := time.Now()
		clients := openIdleSessions(b, addr, []*ssh.ClientConfig{cfg}, n)
		open = time.Since(start)
		b.Cleanup(func() { closeIdleSessions(clients) }) // when a wait below fails
		waitIdle(b, metrics, []*procMeter{m}, n, before.children+n)
		after = settled(b, m)[0]
		closeIdleSessions(clients)
		waitIdle(b, metrics, []*procMeter{m}, 0, before.children)
	}
	reportIdle(b, n, "dev", before, after)
	b.ReportMetric(open.Seconds(), "open-s")
	b.Logf("wsgate dev (gateway + agent in one process), %d idle sessions: before %s; after %s; opened in %s",
		n, before, after, open.Round(time.Millisecond))
}

// reportIdle reports one process's figures under names that start with
// who: per session, then totals with the n sessions open.
func reportIdle(b *testing.B, n int, who string, before, after procSample) {
	per := func(a, b int64) float64 { return float64(a-b) / float64(n) }
	b.ReportMetric(per(after.rssKiB, before.rssKiB), who+"-rss-KiB/session")
	b.ReportMetric(per(after.goroutines, before.goroutines), who+"-goroutines/session")
	b.ReportMetric(per(after.threads, before.threads), who+"-threads/session")
	b.ReportMetric(per(after.fds, before.fds), who+"-fds/session")
	b.ReportMetric(float64(after.rssKiB)/1024, who+"-rss-MiB")
	b.ReportMetric(float64(after.goroutines), who+"-goroutines")
	b.ReportMetric(float64(after.threads), who+"-threads")
}

// idleAgentFDsPerSession bounds the descriptors one idle session holds in
// the agent (its three pipes and a pidfd), the most of any process here:
// idleGatewayFDsPerSession is the gateway's (the client's connection, the
// agent's side being a stream of the one tunnel), and this process holds
// one too. idleDevFDsPerSession is both sides in the one dev process.
const (
	idleAgentFDsPerSession   = 4
	idleGatewayFDsPerSession = 1
	idleDevFDsPerSession     = 6
)

// idleSessionCount is WSGATE_BENCH_IDLE (default 2000).
func idleSessionCount(b testing.TB) int {
	v := os.Getenv("WSGATE_BENCH_IDLE")
	if v == "" {
		return 2000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("WSGATE_BENCH_IDLE=%q: want a positive session count", v)
	}
	return n
}

// raiseNoFile makes RLIMIT_NOFILE (soft and, as root, hard) large enough
// for n sessions at perSession descriptors each in who, in this process
// and so in the processes it starts, which inherit it, and puts it back
// afterwards. It skips b when the limit cannot be raised: the hard limit
// is per machine or container (here 20000, which even root may not raise)
// and a count past it would only fail midway with "too many open files".
func raiseNoFile(b testing.TB, n, perSession int, who string) {
	need := uint64(perSession*n + 1024)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		b.Fatalf("getrlimit: %v", err)
	}
	if old.Cur >= need {
		return
	}
	lim := syscall.Rlimit{Cur: need, Max: max(old.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		most := (max(old.Max, 1024) - 1024) / uint64(perSession)
		b.Skipf("NOT RUN: %d idle sessions need about %d open files in %s (%d a session + 1024); RLIMIT_NOFILE is %d, hard %d, and raising it failed: %v. "+
			"Only a higher hard limit (set by root, or by the container) lets this count run in one process; here one holds at most about %d (BenchmarkIdleSessions: spread them over more agents, WSGATE_BENCH_IDLE_AGENTS).",
			n, need, who, perSession, old.Cur, old.Max, err, most)
	}
	b.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}
