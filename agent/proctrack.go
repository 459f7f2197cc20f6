package agent

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Process tracking: every process a user connection starts, detached or
// not, belongs to that connection (a "process group" here: a cgroup, or
// the descendants a subreaper finds) and to the wsgate user it was opened
// for, so that when the user's access ends their processes can be ended
// too (endUsers). Which mechanism runs is decided once per process
// (procBackend): a cgroup v2 subtree where one is writable, else a child
// subreaper, else nothing.

// Grace between SIGTERM and SIGKILL when a user's processes are ended,
// and how long the kill may take to show.
const (
	endGrace     = time.Second
	endKillWait  = 2 * time.Second
	endPollEvery = 20 * time.Millisecond
)

// procBackend is one way to know a connection's processes.
type procBackend interface {
	// kind names it in logs: "cgroup", "subreaper" or "none".
	kind() string
	// newGroup makes the home of one connection's processes.
	newGroup(user string, id uint64) (procGroup, error)
	// release is called once by the tracker that acquired it.
	release()
}

// procGroup holds one connection's processes.
type procGroup interface {
	// prepare readies attr so the process starts inside the group. done
	// must be called with the started process (nil if Start failed).
	prepare(attr *syscall.SysProcAttr) (done func(*os.Process))
	// pids lists the group's live processes.
	pids() []int
	// killAll sends SIGKILL to every process of the group.
	killAll()
	// remove deletes the group if it holds no process; true when gone.
	remove() bool
}

// procTracker is one Agent's view: its connections' groups, by user.
type procTracker struct {
	backend procBackend
	log     *slog.Logger
	keep    bool // --on-revoke keep-processes

	mu     sync.Mutex
	nextID uint64
	groups map[*procSession]struct{}

	sweeper   chan struct{} // closed when the background sweep has ended
	closeOnce sync.Once     // Agent.Close may be called again
}

// procSession is one connection's processes.
type procSession struct {
	t    *procTracker
	user string
	id   uint64

	mu    sync.Mutex
	group procGroup // nil until the first process starts
	ended bool      // the connection has ended
	err   error     // the group could not be made
}

func newProcTracker(b procBackend, keep bool, log *slog.Logger) *procTracker {
	return &procTracker{backend: b, keep: keep, log: log, groups: map[*procSession]struct{}{}}
}

// session returns the record of a new connection of user; nothing is
// created until it starts a process.
func (t *procTracker) session(user string) *procSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.nextID++
	return &procSession{t: t, user: user, id: t.nextID}
}

// prepare readies cmd (its SysProcAttr, set by the caller first) to start
// inside ps's group; call the returned function with cmd.Process after
// cmd.Start, nil when Start failed. A group that cannot be made is logged
// and the process starts untracked: refusing the user's shell would not
// make anything safer.
func (ps *procSession) prepare(cmd *exec.Cmd) (started func(*os.Process)) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	g := ps.groupOrMake()
	if g == nil {
		return func(*os.Process) {}
	}
	return g.prepare(cmd.SysProcAttr)
}

func (ps *procSession) groupOrMake() procGroup {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.group != nil || ps.err != nil {
		return ps.group
	}
	g, err := ps.t.backend.newGroup(ps.user, ps.id)
	if err != nil {
		ps.err = err
		ps.t.log.Warn("processes of this connection are not tracked", "user", ps.user, "err", err)
		return nil
	}
	ps.group = g
	ps.t.mu.Lock()
	ps.t.groups[ps] = struct{}{}
	ps.t.mu.Unlock()
	return g
}

// end records that the connection ended; its group goes once empty.
func (ps *procSession) end() {
	ps.mu.Lock()
	ps.ended = true
	ps.mu.Unlock()
	ps.t.sweep()
}

// sweep removes the groups of ended connections that hold no process.
func (t *procTracker) sweep() {
	for _, ps := range t.snapshot() {
		ps.mu.Lock()
		if ps.ended && ps.group.remove() {
			t.mu.Lock()
			delete(t.groups, ps)
			t.mu.Unlock()
		}
		ps.mu.Unlock()
	}
}

func (t *procTracker) snapshot() []*procSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*procSession, 0, len(t.groups))
	for ps := range t.groups {
		out = append(out, ps)
	}
	return out
}

// users lists, sorted, the wsgate users with at least one live process.
func (t *procTracker) users() []string {
	t.sweep()
	var out []string
	for _, ps := range t.snapshot() {
		if !slices.Contains(out, ps.user) && len(ps.group.pids()) > 0 {
			out = append(out, ps.user)
		}
	}
	slices.Sort(out)
	return out
}

// endedProc is one process endUsers ended.
type endedProc struct {
	user    string
	pid     int
	command string
}

// endUsers ends every process of the named users' connections: SIGTERM,
// then SIGKILL to what is left after endGrace. It returns what it found
// to end (nothing with --on-revoke keep-processes) and logs it.
func (t *procTracker) endUsers(users []string) []endedProc {
	var mine []*procSession
	for _, ps := range t.snapshot() {
		if slices.Contains(users, ps.user) {
			mine = append(mine, ps)
		}
	}
	var ended []endedProc
	seen := map[int]bool{}
	note := func(ps *procSession, pids []int) {
		for _, pid := range pids {
			if !seen[pid] {
				seen[pid] = true
				ended = append(ended, endedProc{user: ps.user, pid: pid, command: procCommand(pid)})
			}
		}
	}
	for _, ps := range mine {
		note(ps, ps.group.pids())
	}
	if len(ended) == 0 {
		return nil
	}
	if t.keep {
		t.log.Info("access ended; processes kept (--on-revoke keep-processes)", "users", users, "processes", len(ended))
		return nil
	}
	for _, e := range ended {
		_ = syscall.Kill(e.pid, syscall.SIGTERM)
	}
	left := func() bool {
		any := false
		for _, ps := range mine {
			if pids := ps.group.pids(); len(pids) > 0 {
				note(ps, pids)
				any = true
			}
		}
		return any
	}
	if waitUntil(endGrace, func() bool { return !left() }) {
		for _, ps := range mine {
			ps.group.killAll()
		}
		if !waitUntil(endKillWait, func() bool { return !left() }) {
			t.log.Warn("processes left after SIGKILL", "users", users)
		}
	}
	for _, e := range ended {
		t.log.Info("process ended: the user's access ended", "user", e.user, "pid", e.pid, "command", e.command)
	}
	t.sweep()
	return ended
}

// waitUntil polls done until it holds (false) or d has passed (true).
func waitUntil(d time.Duration, done func() bool) (timedOut bool) {
	deadline := time.Now().Add(d)
	for !done() {
		if time.Now().After(deadline) {
			return true
		}
		time.Sleep(endPollEvery)
	}
	return false
}

// procCommand is pid's command line for the logs, shortened.
func procCommand(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		b, _ = os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	}
	for i, c := range b {
		if c == 0 || c == '\n' {
			b[i] = ' '
		}
	}
	s := string(b)
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// close releases the backend once the agent's context has ended; groups
// still holding processes are left to it (see release).
func (t *procTracker) close() {
	t.closeOnce.Do(func() {
		if t.sweeper != nil {
			<-t.sweeper
		}
		t.sweep()
		t.backend.release()
	})
}

// noBackend tracks nothing.
type noBackend struct{}

func (noBackend) kind() string                               { return "none" }
func (noBackend) release()                                   {}
func (noBackend) newGroup(string, uint64) (procGroup, error) { return noGroup{}, nil }

type noGroup struct{}

func (noGroup) prepare(*syscall.SysProcAttr) func(*os.Process) { return func(*os.Process) {} }
func (noGroup) pids() []int                                    { return nil }
func (noGroup) killAll()                                       {}
func (noGroup) remove() bool                                   { return true }

// sweepEvery is how often the groups of ended connections are checked
// for being empty, besides whenever a connection ends or users are asked.
const sweepEvery = 10 * time.Second

// start sweeps in the background until ctx ends; close waits for it.
func (t *procTracker) start(ctx context.Context) {
	t.sweeper = make(chan struct{})
	go func() {
		defer close(t.sweeper)
		tick := time.NewTicker(sweepEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				t.sweep()
			}
		}
	}()
}
