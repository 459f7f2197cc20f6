package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// Server CPU is measured per cgroup v2: each server process (wsgate dev;
// sshd's listener) is moved into a cgroup of its own while idle, everything
// it forks later is born in it, and cpu.stat's usage_usec is the CPU time,
// in nanosecond scheduler accounting, of every task ever in it, charged
// while it runs: a process that exits counts whoever reaps it, or if no one
// does, and nothing is counted twice.
//
// Why not /proc/<pid>/stat's utime+stime+cutime+cstime of the listener: a
// child's time reaches its parent's cutime only when the parent waits for
// it, and sshd's does not. OpenSSH 9.2 forks per connection and re-execs
// (`sshd -R`); that process, the privileged monitor ("sshd: user [priv]"),
// waits for its pre-auth child but, once the session process
// ("sshd: user@notty", which does all the ciphering and reaps the command)
// closes the monitor socket on exit, calls _exit without waiting for it.
// The session process is orphaned to pid 1 and its time added to pid 1's
// cutime (strace: the monitor's exit_group(255) with no wait4; the session
// process, a zombie with ppid 1). The listener saw the monitors alone, about
// 1% of the work. Summing a process tree's live descendants has the same
// hole: the orphan leaves the tree before it is reaped.
type cpuGroup struct {
	name     string
	dir      string       // the cgroup; "" when err is set
	resident map[int]bool // its processes when idle
	err      error        // why this side's CPU cannot be measured
}

// newCPUGroup moves pid and its descendants into a new cgroup, removed at
// cleanup. It does not fail b: where no cgroup v2 is writable (not root, a
// read-only /sys/fs/cgroup) the group holds the reason in err and the
// benchmarks run without cpu-s/GiB.
func newCPUGroup(b testing.TB, name string, pid int) *cpuGroup {
	b.Helper()
	g := &cpuGroup{name: name}
	origin, err := cgroup2Dir(pid)
	if err != nil {
		g.err = err
		return g
	}
	dir := filepath.Join(origin, fmt.Sprintf("wsgate-bench-%d-%s", os.Getpid(), name))
	if err := os.Mkdir(dir, 0o755); err != nil {
		g.err = fmt.Errorf("create cgroup: %w", err)
		return g
	}
	b.Cleanup(func() { removeCgroup(b, dir, origin) })
	g.resident = map[int]bool{}
	for _, p := range append([]int{pid}, descendants(pid)...) {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(p)), 0); err != nil {
			if errors.Is(err, syscall.ESRCH) {
				continue // exited meanwhile
			}
			g.err = fmt.Errorf("move %d into %s: %w", p, dir, err)
			return g
		}
		g.resident[p] = true
	}
	g.dir = dir
	return g
}

// removeCgroup moves what is left in dir (the server, still running: its
// own cleanup comes later) back to origin and removes dir.
func removeCgroup(b testing.TB, dir, origin string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		procs, err := cgroupProcs(dir)
		for _, p := range procs {
			_ = os.WriteFile(filepath.Join(origin, "cgroup.procs"), []byte(strconv.Itoa(p)), 0)
		}
		if err == nil {
			err = os.Remove(dir)
		}
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return
		}
		if time.Now().After(deadline) {
			b.Logf("cpu meter: cgroup %s left behind: %v", dir, err)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cgroup2Dir is the directory of pid's cgroup in the cgroup v2 hierarchy.
func cgroup2Dir(pid int) (string, error) {
	mount, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", fmt.Errorf("cgroup of %d: %w", pid, err)
	}
	for line := range strings.Lines(string(raw)) {
		if path, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			dir := filepath.Join(mount, path)
			if _, err := os.Stat(filepath.Join(dir, "cpu.stat")); err != nil {
				return "", fmt.Errorf("cgroup of %d: %w", pid, err)
			}
			return dir, nil
		}
	}
	return "", fmt.Errorf("process %d is in no cgroup v2 (/proc/%d/cgroup: %q)", pid, pid, raw)
}

// cgroup2Mount is where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup,
// or /sys/fs/cgroup/unified on a hybrid (v1 controllers) system.
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw"
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, fstype := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) >= 5 && len(fstype) > 0 && fstype[0] == "cgroup2" {
			return fields[4], nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("find cgroup2 mount: %w", err)
	}
	return "", errors.New("no cgroup2 file system is mounted")
}

// descendants are pid's children, theirs, and so on.
func descendants(pid int) []int {
	var out []int
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(raw)) {
			if c, err := strconv.Atoi(s); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}

func cgroupProcs(dir string) ([]int, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var out []int
	for _, s := range strings.Fields(string(raw)) {
		p, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("%s/cgroup.procs: %w", dir, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// usage is the CPU time of every task that has been in g.
func (g *cpuGroup) usage(b testing.TB) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(g.dir, "cpu.stat"))
	if err != nil {
		b.Fatalf("cpu time: %v", err)
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				b.Fatalf("cpu time: %s/cpu.stat: %v", g.dir, err)
			}
			return time.Duration(n) * time.Microsecond
		}
	}
	b.Fatalf("cpu time: no usage_usec in %s/cpu.stat: %q", g.dir, raw)
	return 0
}

// waitIdle waits until g holds only its resident processes: the server's
// work for a connection may go on after the client has returned (sshd's
// session process tearing down), and it ends when that process exits.
func (g *cpuGroup) waitIdle(b testing.TB) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		procs, err := cgroupProcs(g.dir)
		if err != nil {
			b.Fatalf("cpu meter: %v", err)
		}
		extra := slices.DeleteFunc(procs, func(p int) bool { return g.resident[p] })
		if len(extra) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("cpu meter: %s still runs %v after 10s", g.name, extra)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cpuMeter measures a side's server CPU time over a benchmark: the server
// process (wsgate dev: gateway and agent; sshd: the listener) and all it
// forks (the remote command; sshd's per-connection processes). The
// client's ssh is not counted. A zero cpuMeter measures nothing.
type cpuMeter struct {
	g     *cpuGroup
	start time.Duration
}

func (s benchSide) startCPU(b *testing.B) cpuMeter {
	b.Helper()
	if s.cpu.err != nil {
		b.Logf("%s: no cpu-s/GiB: %v", s.name, s.cpu.err)
		return cpuMeter{}
	}
	s.cpu.waitIdle(b)
	return cpuMeter{g: s.cpu, start: s.cpu.usage(b)}
}

// report adds the metric cpu-s/GiB: server CPU seconds per GiB moved.
// Call it after the b.Loop loop (the timer is stopped then).
func (m cpuMeter) report(b *testing.B, size int64) {
	b.Helper()
	if m.g == nil {
		return
	}
	m.g.waitIdle(b)
	used := m.g.usage(b) - m.start
	gib := float64(size) * float64(b.N) / (1 << 30)
	b.ReportMetric(used.Seconds()/gib, "cpu-s/GiB")
}

// TestCPUGroupCountsOrphans is sshd's case in small: the server forks a
// process that forks a busy worker and exits without waiting, so the
// worker is orphaned and reaped elsewhere. Its CPU must count all the same.
func TestCPUGroupCountsOrphans(t *testing.T) {
	requireTool(t, "timeout")
	server := exec.Command("sh", "-c", `read go; (timeout 0.3 sh -c 'while :; do :; done' &); read done`)
	stdin, err := server.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = server.Wait()
	}()
	g := newCPUGroup(t, "orphan", server.Process.Pid)
	if g.err != nil {
		t.Skipf("no cgroup v2 to measure in: %v", g.err)
	}
	start := g.usage(t)
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "worker started", func() bool {
		procs, err := cgroupProcs(g.dir)
		return err == nil && len(procs) > 1
	})
	g.waitIdle(t)
	used := g.usage(t) - start
	// Spinning for 0.3 s on a busy machine may get less than 0.3 s of CPU.
	if used < 100*time.Millisecond {
		t.Errorf("cgroup counted %v of a worker busy for 0.3 s", used)
	}
	// The old meter's figure: the server's own and reaped children's time,
	// which lacks the orphan (else this test shows nothing).
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", server.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	var ticks int
	for _, s := range f[11:15] { // utime stime cutime cstime, in 1/100 s
		n, _ := strconv.Atoi(s)
		ticks += n
	}
	if ticks >= 10 {
		t.Errorf("the server's own stat counts %d ticks: the worker was not orphaned", ticks)
	}
	t.Logf("cgroup: %v; server's utime+stime+cutime+cstime: %v", used, time.Duration(ticks)*10*time.Millisecond)
}
