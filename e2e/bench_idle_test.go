package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// BenchmarkIdleSessions is the memory an idle session costs: one Go client
// process (this test) opens WSGATE_BENCH_IDLE (default 2000) SSH connections
// to alice-ws on `wsgate dev`, each with one session running `sleep 3600`,
// and compares the dev process before and after.
//
// `wsgate dev` is the gateway and the agent in ONE process, so every
// figure is both sides combined: per session the gateway holds the client's
// connection and its stream to the agent, the agent the SSH session, its
// pipes and the child. The sleep processes themselves are not counted (they
// are the workspace's, not wsgate's). Figures:
//
//   - rss-KiB/session: (VmRSS after − before) / N, from /proc/<pid>/status,
//     each read after a forced GC (pprof heap?gc=1) once two reads a second
//     apart agree within 3 %;
//   - goroutines/session: from the dev process's pprof goroutine profile
//     (/metrics has no go_goroutines: the gateway's registry holds only
//     wsgate_* metrics), so dev runs with --pprof-addr;
//   - threads/session and fds/session: /proc/<pid>/status Threads and the
//     entries of /proc/<pid>/fd (seen: a thread a session, the agent's
//     wait for its program blocking one in waitid; Go ends a program at
//     10,000 threads unless debug.SetMaxThreads says otherwise);
//   - rss-MiB, goroutines, threads: the totals with N sessions open.
//
// Connections are opened idleParallel at a time, below the gateway's cap of
// 64 unauthenticated connections. At the end every connection is closed and
// the benchmark waits for wsgate_sessions_active and the dev process's
// children to drop back, so it stops by itself.
//
//	WSGATE_BENCH_IDLE=2000 go test -run '^$' -bench IdleSessions -benchtime 1x -v ./e2e
func BenchmarkIdleSessions(b *testing.B) {
	n := idleSessionCount(b)
	raiseNoFile(b, n)
	// The agent starts commands with $SHELL; dash execs the last command,
	// so each session's child is the sleep itself.
	b.Setenv("SHELL", "/bin/sh")
	pprofAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(b)))
	d := startDev(b, "--pprof-addr", pprofAddr)
	m := &devMeter{pid: d.proc.cmd.Process.Pid, pprof: "http://" + pprofAddr, metrics: d.url + "/metrics"}
	cfg := idleClientConfig(b, d)
	addr := net.JoinHostPort(d.sshHost, d.sshPort)

	// One session first, so what is made once (the agent's first stream,
	// caches, the HTTP clients of this meter) is not charged to the N.
	warm := openIdleSessions(b, addr, cfg, 1)
	closeIdleSessions(warm)
	m.waitIdle(b, 0, 0)

	var before, after devSample
	var open time.Duration
	for b.Loop() {
		before = m.settled(b)
		start := time.Now()
		clients := openIdleSessions(b, addr, cfg, n)
		open = time.Since(start)
		b.Cleanup(func() { closeIdleSessions(clients) }) // when a wait below fails
		m.waitIdle(b, n, before.children+n)
		after = m.settled(b)
		closeIdleSessions(clients)
		m.waitIdle(b, 0, before.children)
	}
	per := func(a, b int64) float64 { return float64(a-b) / float64(n) }
	b.ReportMetric(per(after.rssKiB, before.rssKiB), "rss-KiB/session")
	b.ReportMetric(per(after.goroutines, before.goroutines), "goroutines/session")
	b.ReportMetric(per(after.threads, before.threads), "threads/session")
	b.ReportMetric(per(after.fds, before.fds), "fds/session")
	b.ReportMetric(float64(after.rssKiB)/1024, "rss-MiB")
	b.ReportMetric(float64(after.goroutines), "goroutines")
	b.ReportMetric(float64(after.threads), "threads")
	b.ReportMetric(open.Seconds(), "open-s")
	b.Logf("wsgate dev (gateway + agent in one process), %d idle sessions: before %s; after %s; opened in %s",
		n, before, after, open.Round(time.Millisecond))
}

// idleParallel is how many connections are being opened at once: well
// below the gateway's MaxUnauthenticated (64), so no handshake is refused.
const idleParallel = 16

// idleFDsPerSession bounds the descriptors one session holds in the dev
// process (the client's connection; the agent's three pipes and a pidfd)
// and in this one (the connection); the dev process inherits our limit.
const idleFDsPerSession = 6

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
// for n sessions, in this process and so in the dev process it starts, and
// puts it back afterwards; it skips b when the limit cannot be raised.
func raiseNoFile(b testing.TB, n int) {
	need := uint64(idleFDsPerSession*n + 1024)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		b.Fatalf("getrlimit: %v", err)
	}
	if old.Cur >= need {
		return
	}
	lim := syscall.Rlimit{Cur: need, Max: max(old.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skipf("%d sessions need about %d open files (%d a session in the dev process, which inherits this limit); RLIMIT_NOFILE is %d (hard %d) and raising it failed (only root may raise the hard limit): %v",
			n, need, idleFDsPerSession, old.Cur, old.Max, err)
	}
	b.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// idleClientConfig logs in as alice to alice-ws with her dev key, checking
// the host key against the dev known_hosts.
func idleClientConfig(b testing.TB, d *devEnv) *ssh.ClientConfig {
	b.Helper()
	key, err := os.ReadFile(d.key("alice"))
	if err != nil {
		b.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		b.Fatal(err)
	}
	hostKeys, err := knownhosts.New(filepath.Join(d.dir, "known_hosts"))
	if err != nil {
		b.Fatal(err)
	}
	return &ssh.ClientConfig{
		User: "alice-ws", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys, Timeout: 30 * time.Second,
	}
}

// openIdleSessions opens n connections, idleParallel at a time, each with
// one session started on `sleep 3600`; on an error it closes what it opened
// and fails b.
func openIdleSessions(b testing.TB, addr string, cfg *ssh.ClientConfig, n int) []*ssh.Client {
	b.Helper()
	clients := make([]*ssh.Client, n)
	next := make(chan int)
	errs := make(chan error, idleParallel)
	var wg sync.WaitGroup
	for range min(idleParallel, n) {
		wg.Go(func() {
			for i := range next {
				c, err := openIdleSession(addr, cfg)
				if err != nil {
					errs <- fmt.Errorf("session %d of %d: %w", i+1, n, err)
					return
				}
				clients[i] = c
			}
		})
	}
	func() {
		defer close(next)
		for i := range n {
			select {
			case next <- i:
			case err := <-errs:
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		closeIdleSessions(clients)
		b.Fatal(err)
	}
	return clients
}

// openIdleSession dials addr and starts `sleep 3600` on one session.
func openIdleSession(addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s, err := c.NewSession()
	if err == nil {
		err = s.Start("sleep 3600")
	}
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("session: %w", err)
	}
	return c, nil
}

// closeIdleSessions closes every client (nil ones are skipped) and waits
// for their goroutines to end.
func closeIdleSessions(clients []*ssh.Client) {
	var wg sync.WaitGroup
	next := make(chan *ssh.Client)
	for range idleParallel {
		wg.Go(func() {
			for c := range next {
				_ = c.Close()
				_ = c.Wait()
			}
		})
	}
	for _, c := range clients {
		if c != nil {
			next <- c
		}
	}
	close(next)
	wg.Wait()
}
