package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpuMeter measures the server side's CPU time over a benchmark: the
// process (wsgate dev: gateway and agent; sshd: the listener) and every
// descendant it has reaped (the remote command; sshd's per-connection
// processes, which reap theirs). The client's ssh is not counted.
type cpuMeter struct {
	pid   int
	start time.Duration
}

func (s benchSide) startCPU(b *testing.B) cpuMeter {
	b.Helper()
	waitReaped(b, s.pid)
	return cpuMeter{pid: s.pid, start: procCPU(b, s.pid)}
}

// report adds the metric cpu-s/GiB: server CPU seconds per GiB moved.
// Call it after the b.Loop loop (the timer is stopped then).
func (m cpuMeter) report(b *testing.B, size int64) {
	b.Helper()
	waitReaped(b, m.pid)
	used := procCPU(b, m.pid) - m.start
	gib := float64(size) * float64(b.N) / (1 << 30)
	b.ReportMetric(used.Seconds()/gib, "cpu-s/GiB")
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports (sysconf would need cgo).
const clockTick = 10 * time.Millisecond

// procCPU is utime+stime+cutime+cstime of pid.
func procCPU(b testing.TB, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("cpu time: %v", err)
	}
	// The command name, in parentheses, may hold spaces: fields start after
	// the last ')', with the state (field 3) first; utime is field 14.
	i := strings.LastIndexByte(string(raw), ')')
	f := strings.Fields(string(raw[i+1:]))
	if i < 0 || len(f) < 15 {
		b.Fatalf("cpu time: cannot parse /proc/%d/stat: %q", pid, raw)
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("cpu time: /proc/%d/stat: %v", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick
}

// waitReaped waits until pid has no children left: only reaped children
// count in cutime, and sshd's connection process may still be finishing
// when the client has returned.
func waitReaped(b testing.TB, pid int) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		busy := false
		for _, f := range files {
			if c, err := os.ReadFile(f); err == nil && len(strings.TrimSpace(string(c))) > 0 {
				busy = true
			}
		}
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("process %d still has children after 10s", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
