package agent

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// osThreads is the process's OS thread count.
func osThreads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// Running sessions do not pin an OS thread each: the wait for the program
// parks in the netpoller (a pidfd), not in a blocking wait4.
func TestRunningSessionsPinNoThreads(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pidfd waiting is Linux only")
	}
	if err := parkUntilExit(os.Getpid()); err == nil {
		t.Fatal("parkUntilExit returned for a process that has not exited")
	} else if !strings.Contains(err.Error(), "waitid") {
		// pidfd_open itself failed: this kernel cannot do it.
		t.Skipf("no pidfd here: %v", err)
	}
	const n = 200
	client := dialConn(t, newTestAgent(t))
	before := osThreads(t)
	for i := range n {
		s := newSession(t, client)
		out, err := s.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start("echo up; exec sleep 30"); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "up\n" {
			t.Fatalf("session %d: read %q %v", i, line, err)
		}
	}
	after := osThreads(t)
	t.Logf("OS threads: %d before, %d with %d sessions running", before, after, n)
	if after-before > n/4 {
		t.Fatalf("%d running sessions added %d OS threads", n, after-before)
	}
}
