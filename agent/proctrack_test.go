//go:build linux

package agent

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// startTracked runs script under sh in ps's group and returns its
// process; stdin stays open until the returned writer is closed, and the
// first line the script prints (pids, by convention) is returned.
func startTracked(t *testing.T, ps *procSession, script string) (*exec.Cmd, io.WriteCloser, []int) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	started := ps.prepare(cmd)
	err = cmd.Start()
	started(cmd.Process)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read pids: %v", err)
	}
	var pids []int
	for f := range strings.FieldsSeq(line) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("pid %q: %v", f, err)
		}
		pids = append(pids, pid)
	}
	return cmd, stdin, pids
}

// alive: the pid exists and has not exited (a zombie has).
func alive(pid int) bool {
	st, ok := readProcStat(pid)
	return ok && st.state != 'Z'
}

// gone: not even a zombie is left: it was reaped.
func gone(pid int) bool {
	_, ok := readProcStat(pid)
	return !ok
}

func newTestTracker(t *testing.T, forceSubreaper bool) *procTracker {
	t.Helper()
	tr := newProcTracker(newProcBackend("/bin/sh", forceSubreaper, testLogger(t)), false, testLogger(t))
	t.Cleanup(tr.close)
	return tr
}

// Detached processes (nohup, setsid) of bob's connection are his: they
// are listed under his name and ended with him; alice's are not.
// With reaped, the tracker itself must have reaped them (a subreaper
// does; orphans of the cgroup path are init's to reap).
func testTrackerEndsDetached(t *testing.T, tr *procTracker, reaped bool) {
	ended := func(pid int) bool {
		if reaped {
			return gone(pid)
		}
		return !alive(pid)
	}
	bob, alice := tr.session("bob"), tr.session("alice")
	// The shell prints its children's pids and waits on stdin, so the
	// ppid chain is intact at the first scan; then it exits and they are
	// orphans.
	shell, stdin, pids := startTracked(t, bob,
		`nohup sleep 321 >/dev/null 2>&1 & a=$!; setsid sleep 322 >/dev/null 2>&1 & echo $a $!; read x; exit 0`)
	aliceShell, _, alicePids := startTracked(t, alice, `nohup sleep 323 >/dev/null 2>&1 & echo $!; exec 1>&-; read x`)
	if got := tr.users(); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("users = %v, want [alice bob]", got)
	}
	_ = stdin.Close()
	if err := shell.Wait(); err != nil {
		t.Fatalf("bob's shell: %v (its exit status must stay its Wait's)", err)
	}
	bob.end()
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("pid %d gone before the end", pid)
		}
	}
	if got := tr.users(); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("users after bob's shell ended = %v, want [alice bob]", got)
	}

	start := time.Now()
	endedBob := tr.endUsers([]string{"bob"})
	if d := time.Since(start); d >= endGrace {
		t.Errorf("ending processes that obey SIGTERM took %v", d)
	}
	var endedPids []int
	for _, e := range endedBob {
		if e.user != "bob" {
			t.Errorf("ended %+v, not bob's", e)
		}
		endedPids = append(endedPids, e.pid)
	}
	for _, pid := range pids {
		if !slices.Contains(endedPids, pid) {
			t.Errorf("pid %d not in ended %+v", pid, endedBob)
		}
	}
	testutil.WaitFor(t, 2*time.Second, "bob's detached processes are gone",
		func() bool { return ended(pids[0]) && ended(pids[1]) })
	if !alive(alicePids[0]) || !alive(aliceShell.Process.Pid) {
		t.Fatal("alice's processes were ended with bob's")
	}
	if got := tr.users(); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("users = %v, want [alice]", got)
	}
	tr.endUsers([]string{"alice"})
	_ = aliceShell.Wait()
	alice.end()
	testutil.WaitFor(t, 2*time.Second, "alice's process is gone", func() bool { return ended(alicePids[0]) })
}

func TestCgroupTrackerEndsDetached(t *testing.T) {
	tr := newTestTracker(t, false)
	if tr.backend.kind() != "cgroup" {
		t.Skip("cgroup v2 is not writable here")
	}
	testTrackerEndsDetached(t, tr, false)
}

func TestSubreaperTrackerEndsDetached(t *testing.T) {
	tr := newTestTracker(t, true)
	if tr.backend.kind() != "subreaper" {
		t.Fatalf("backend %s, want subreaper", tr.backend.kind())
	}
	testTrackerEndsDetached(t, tr, true)
}

// The cgroup tree: the process sits in its own leaf while a tracker is
// open, each connection gets a cgroup that goes once it is empty and
// ended, and closing the last tracker removes the tree and puts the
// process back where it was.
func TestCgroupTreeLifecycle(t *testing.T) {
	before, err := ownCgroupDir()
	if err != nil {
		t.Skip("no cgroup v2:", err)
	}
	tr := newProcTracker(newProcBackend("/bin/sh", false, testLogger(t)), false, testLogger(t))
	if tr.backend.kind() != "cgroup" {
		tr.close()
		t.Skip("cgroup v2 is not writable here")
	}
	home := tr.backend.(cgroupBackend).home
	if now, _ := ownCgroupDir(); now != home.base+"/agent" {
		t.Fatalf("process in %s, want the leaf %s/agent", now, home.base)
	}
	ps := tr.session("bob")
	cmd, stdin, _ := startTracked(t, ps, `echo 0; read x`)
	dir := ps.group.(*cgroupGroup).dir
	if got := ps.group.pids(); !slices.Equal(got, []int{cmd.Process.Pid}) {
		t.Fatalf("cgroup holds %v, want the shell %d", got, cmd.Process.Pid)
	}
	ps.end()
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("cgroup of a connection with a live process removed: %v", err)
	}
	_ = stdin.Close()
	_ = cmd.Wait()
	tr.sweep()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("cgroup of an ended, empty connection left: %v", err)
	}
	tr.close()
	if _, err := os.Stat(home.base); !os.IsNotExist(err) {
		t.Fatalf("agent cgroup tree left after close: %v", err)
	}
	if now, _ := ownCgroupDir(); now != before {
		t.Fatalf("process in %s after close, want %s", now, before)
	}
}

// The empty tree of an agent that died without removing it goes when
// the next agent starts; a live agent's stays.
func TestCgroupStaleHomeRemoved(t *testing.T) {
	orig, err := ownCgroupDir()
	if err != nil {
		t.Skip("no cgroup v2:", err)
	}
	dead := exec.Command("/bin/sh", "-c", "exit 0")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := orig + "/wsgate-agent-" + strconv.Itoa(dead.Process.Pid)
	if err := os.MkdirAll(stale+"/c1-bob", 0o755); err != nil {
		t.Skip("cgroup v2 is not writable here:", err)
	}
	t.Cleanup(func() { _ = os.Remove(stale + "/c1-bob"); _ = os.Remove(stale) })
	live := orig + "/wsgate-agent-1"
	if err := os.Mkdir(live, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(live) })
	removeStaleHomes(orig)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale tree %s left: %v", stale, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("the tree of live pid 1 was removed: %v", err)
	}
}
