package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procMeter reads one running wsgate process from outside: /proc for
// memory, threads, descriptors and children, and, when it serves pprof,
// its goroutine profile.
type procMeter struct {
	name  string // "gateway", "agent of alice/alice-ws", "dev": names it in failures
	pid   int
	pprof string // http://host:port of --pprof-addr; "" when it has none
}

// procSample is one process at one moment; goroutines is -1 when the
// process has no pprof listener to read them from.
type procSample struct {
	rssKiB, goroutines, threads, fds int64
	children                         int
}

func (s procSample) String() string {
	g := "? goroutines"
	if s.goroutines >= 0 {
		g = fmt.Sprintf("%d goroutines", s.goroutines)
	}
	return fmt.Sprintf("rss %.1f MiB, %s, %d threads, %d fds, %d children",
		float64(s.rssKiB)/1024, g, s.threads, s.fds, s.children)
}

// settleWait, settleTries and settleTolerance: a settled reading comes
// after settleWait, from two reads a second apart whose RSS and goroutine
// counts agree within settleTolerance, within settleTries reads.
const (
	settleWait      = 2 * time.Second
	settleTries     = 60
	settleTolerance = 0.03
)

// settled waits and reads every meter until two reads in a row agree for
// all of them, and returns the last reads in the order of ms; figures
// that never settle are no figures, so that fails b.
func settled(b testing.TB, ms ...*procMeter) []procSample {
	b.Helper()
	time.Sleep(settleWait)
	read := func() []procSample {
		s := make([]procSample, len(ms))
		for i, m := range ms {
			s[i] = m.sample(b)
		}
		return s
	}
	prev := read()
	for range settleTries {
		time.Sleep(time.Second)
		cur := read()
		agree := true
		for i := range cur {
			agree = agree && near(cur[i].rssKiB, prev[i].rssKiB) && near(cur[i].goroutines, prev[i].goroutines)
		}
		if agree {
			return cur
		}
		prev = cur
	}
	b.Fatalf("processes did not settle in %d reads: last %v", settleTries, prev)
	return nil
}

func near(a, b int64) bool {
	d := float64(a - b)
	return d*d <= settleTolerance*settleTolerance*float64(b)*float64(b)
}

// sample reads the process. With pprof it first forces a GC there (the
// heap profile's gc=1), so garbage not yet collected does not count;
// without, the process's own GC pacing is all there is.
func (m *procMeter) sample(b testing.TB) procSample {
	b.Helper()
	s := procSample{goroutines: -1}
	if m.pprof != "" {
		if _, err := httpGet(m.pprof + "/debug/pprof/heap?gc=1"); err != nil {
			b.Fatal(err)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "VmRSS": // "  12345 kB"
			s.rssKiB, err = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		case "Threads":
			s.threads, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
		if err != nil {
			b.Fatalf("/proc/%d/status %q: %v", m.pid, line, err)
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", m.pid))
	if err != nil {
		b.Fatal(err)
	}
	s.fds = int64(len(fds))
	s.children = len(m.childPIDs(b))
	if m.pprof != "" {
		if s.goroutines, err = m.goroutines(); err != nil {
			b.Fatal(err)
		}
	}
	if s.rssKiB == 0 || s.threads == 0 {
		b.Fatalf("/proc/%d/status has no VmRSS or Threads:\n%s", m.pid, status)
	}
	return s
}

// goroutines is the total in the process's goroutine profile, whose first
// line reads "goroutine profile: total N".
func (m *procMeter) goroutines() (int64, error) {
	body, err := httpGet(m.pprof + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(body, "\n")
	v, ok := strings.CutPrefix(first, "goroutine profile: total ")
	n, err := strconv.ParseInt(v, 10, 64)
	if !ok || err != nil {
		return 0, fmt.Errorf("goroutine profile starts %q", first)
	}
	return n, nil
}

// childPIDs are the process's child processes (each thread lists the
// children it started).
func (m *procMeter) childPIDs(b testing.TB) []int {
	b.Helper()
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", m.pid))
	if err != nil || len(files) == 0 {
		b.Fatalf("/proc/%d/task/*/children: %v (no files: kernel without CONFIG_PROC_CHILDREN?)", m.pid, err)
	}
	var pids []int
	for _, f := range files {
		// A thread that ended since the glob has no file; it has no children either.
		text, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, w := range strings.Fields(string(text)) {
			pid, err := strconv.Atoi(w)
			if err != nil {
				b.Fatalf("%s: %q", f, text)
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// dumpGoroutines counts the goroutines of a process that serves no pprof
// (the agent) the only way there is from outside: SIGQUIT makes the Go
// runtime print every goroutine, system ones included, and exit. So it is
// the process's last reading, and only a difference between two dumps of
// like processes is a per-session figure. "goroutine 0" is the signal
// handler's g0, not a goroutine.
func dumpGoroutines(b testing.TB, p *proc) int64 {
	b.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		b.Fatalf("SIGQUIT %v: %v", p.cmd.Args[1:], err)
	}
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		b.Fatalf("wsgate %v did not exit within a minute of SIGQUIT", p.cmd.Args[1:])
	}
	var n int64
	for line := range strings.Lines(p.out.String()) {
		if strings.HasPrefix(line, "goroutine ") && !strings.HasPrefix(line, "goroutine 0 ") && strings.HasSuffix(line, "]:\n") {
			n++
		}
	}
	if n == 0 {
		b.Fatalf("no goroutine dump after SIGQUIT of wsgate %v:\n%s", p.cmd.Args[1:], p.out.String())
	}
	return n
}

// waitIdle waits until the gateway at metrics counts sessions live
// sessions and the processes kids have children child processes in all.
func waitIdle(b testing.TB, metrics string, kids []*procMeter, sessions, children int) {
	b.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		active, err := activeSessions(metrics)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, k := range kids {
			n += len(k.childPIDs(b))
		}
		if active == sessions && n == children {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("waiting for %d sessions and %d child processes of %d processes (%s, …): have %d and %d",
				sessions, children, len(kids), kids[0].name, active, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitSessions waits until the gateway at metrics counts sessions live
// sessions, within limit. A gateway ending thousands of sessions at once
// may not answer /metrics for a while (seen: over 30 s for 2000 after its
// agent died), so errors are retried until limit too.
func waitSessions(b testing.TB, metrics string, sessions int, limit time.Duration) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for {
		active, err := activeSessions(metrics)
		if err == nil && active == sessions {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("waiting %s for %d sessions: have %d (%v)", limit, sessions, active, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// activeSessions is wsgate_sessions_active from the gateway's /metrics.
func activeSessions(metrics string) (int, error) {
	body, err := httpGet(metrics)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wsgate_sessions_active "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: wsgate_sessions_active %q: %w", metrics, v, err)
			}
			return int(f), nil
		}
	}
	return 0, fmt.Errorf("%s has no wsgate_sessions_active", metrics)
}

// meterClient keeps no idle connections, so no goroutine of it outlives a
// request (TestMain checks for leaks).
var meterClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func httpGet(url string) (string, error) {
	resp, err := meterClient.Get(url)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	return string(body), nil
}
