package agent

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The subreaper backend, where no cgroup v2 tree is writable. The process
// becomes a child subreaper, so processes orphaned below it are re-parented
// to it instead of to init, and scans of /proc (on SIGCHLD, every
// reaperScanEvery, and whenever asked) attribute each of its descendants to
// a connection: by the ppid chain up to a program the connection started,
// by a process group or session id that is such a program's pid (Linux
// does not reuse a pid while it names a group or session), or because a
// previous scan saw it there. It is best effort: a process that forks,
// calls setsid and forks again between two scans, then loses its parent,
// carries no mark of where it came from and is not found. Re-parented
// orphans of connections are reaped here once they exit; processes started
// through exec.Cmd are left to their Wait, and so is any child this process
// started otherwise.

const reaperScanEvery = time.Second

type reaperHome struct {
	log  *slog.Logger
	self int

	// starts is held for reading from a tracked fork until its pid is
	// recorded, and for writing by a scan: a scan never sees a child
	// whose exec.Cmd is not known yet.
	starts sync.RWMutex

	mu     sync.Mutex
	direct map[int]uint64 // pid → start time: children whose exec.Cmd reaps them
	groups map[*reaperGroup]struct{}
	// lastProcs is the process table the last scan read.
	lastProcs map[int]procStat

	stop chan struct{}
	done chan struct{}
}

var (
	reaperMu   sync.Mutex
	reaper     *reaperHome
	reaperRefs int
)

// acquireReaper makes the process a child subreaper on first use.
func acquireReaper(log *slog.Logger) (*reaperHome, error) {
	reaperMu.Lock()
	defer reaperMu.Unlock()
	if reaper != nil {
		reaperRefs++
		return reaper, nil
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become a child subreaper: %w", err)
	}
	h := &reaperHome{
		log: log, self: os.Getpid(),
		direct: map[int]uint64{}, groups: map[*reaperGroup]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go h.run()
	reaper, reaperRefs = h, 1
	return h, nil
}

func (h *reaperHome) release() {
	reaperMu.Lock()
	defer reaperMu.Unlock()
	if reaperRefs--; reaperRefs > 0 {
		return
	}
	reaper = nil
	close(h.stop)
	<-h.done
	_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
}

func (h *reaperHome) run() {
	defer close(h.done)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	t := time.NewTicker(reaperScanEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-sigs:
		case <-t.C:
		}
		h.mu.Lock()
		n := len(h.groups)
		h.mu.Unlock()
		if n > 0 {
			h.scan()
		}
	}
}

// procStat is what a scan needs of /proc/<pid>/stat.
type procStat struct {
	ppid, pgid, sid int
	state           byte
	start           uint64 // clock ticks after boot: tells a reused pid apart
}

func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, false
	}
	var s procStat
	s.state = f[0][0]
	s.ppid, _ = strconv.Atoi(string(f[1]))
	s.pgid, _ = strconv.Atoi(string(f[2]))
	s.sid, _ = strconv.Atoi(string(f[3]))
	s.start, _ = strconv.ParseUint(string(f[19]), 10, 64)
	return s, true
}

func readProcTable() map[int]procStat {
	out := map[int]procStat{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, ok := readProcStat(pid); ok {
			out[pid] = s
		}
	}
	return out
}

// scan attributes the process's descendants to their groups and reaps the
// groups' re-parented orphans that have exited.
func (h *reaperHome) scan() {
	h.starts.Lock()
	defer h.starts.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	procs := readProcTable()
	for pid, st := range h.direct {
		if p, ok := procs[pid]; !ok || p.start != st {
			delete(h.direct, pid)
		}
	}
	// desc memoizes "is a descendant of this process".
	desc := map[int]bool{h.self: true}
	var isDesc func(pid, depth int) bool
	isDesc = func(pid, depth int) bool {
		if v, ok := desc[pid]; ok {
			return v
		}
		p, ok := procs[pid]
		v := ok && depth < 4096 && pid > 1 && isDesc(p.ppid, depth+1)
		desc[pid] = v
		return v
	}
	owner := func(pid int) *reaperGroup {
		for a, depth := pid, 0; a != h.self && a > 1 && depth < 4096; depth++ {
			p, ok := procs[a]
			if !ok {
				break
			}
			for g := range h.groups {
				if st, ok := g.leaders[a]; ok && st == p.start {
					return g
				}
				if st, ok := g.members[a]; ok && st == p.start {
					return g
				}
			}
			a = p.ppid
		}
		p := procs[pid]
		for g := range h.groups {
			if _, ok := g.leaders[p.pgid]; ok {
				return g
			}
			if _, ok := g.leaders[p.sid]; ok {
				return g
			}
		}
		return nil
	}
	found := map[*reaperGroup]map[int]uint64{}
	held := map[int]bool{} // pids that name a live descendant, its group or session
	for pid, p := range procs {
		if pid == h.self || !isDesc(pid, 0) {
			continue
		}
		held[pid], held[p.pgid], held[p.sid] = true, true, true
		g := owner(pid)
		if g == nil {
			continue
		}
		if found[g] == nil {
			found[g] = map[int]uint64{}
		}
		found[g][pid] = p.start
		if p.state == 'Z' && p.ppid == h.self {
			if _, mine := h.direct[pid]; !mine {
				var ws unix.WaitStatus
				_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
				delete(found[g], pid)
			}
		}
	}
	for g := range h.groups {
		g.members = found[g]
		for pid := range g.leaders {
			if !held[pid] {
				delete(g.leaders, pid) // its pid may be reused now
			}
		}
	}
	h.lastProcs = procs
}

// reaperBackend tracks each connection's descendants of this process.
type reaperBackend struct{ home *reaperHome }

func (reaperBackend) kind() string { return "subreaper" }

func (b reaperBackend) release() { b.home.release() }

func (b reaperBackend) newGroup(string, uint64) (procGroup, error) {
	g := &reaperGroup{home: b.home, leaders: map[int]uint64{}}
	b.home.mu.Lock()
	b.home.groups[g] = struct{}{}
	b.home.mu.Unlock()
	return g, nil
}

// reaperGroup is one connection's processes as the last scan found them.
type reaperGroup struct {
	home    *reaperHome
	leaders map[int]uint64 // programs the connection started: pid → start time
	members map[int]uint64 // what the last scan attributed to it
}

func (g *reaperGroup) prepare(*syscall.SysProcAttr) func(*os.Process) {
	h := g.home
	h.starts.RLock()
	return func(p *os.Process) {
		defer h.starts.RUnlock()
		if p == nil {
			return
		}
		st, ok := readProcStat(p.Pid)
		if !ok {
			return // already gone: its Wait reaps it
		}
		h.mu.Lock()
		h.direct[p.Pid] = st.start
		g.leaders[p.Pid] = st.start
		h.mu.Unlock()
	}
}

// pids scans, then lists the group's live (not exited) processes.
func (g *reaperGroup) pids() []int {
	g.home.scan()
	g.home.mu.Lock()
	defer g.home.mu.Unlock()
	var out []int
	for pid := range g.members {
		if p, ok := g.home.lastProcs[pid]; ok && p.state != 'Z' {
			out = append(out, pid)
		}
	}
	return out
}

func (g *reaperGroup) killAll() {
	for _, pid := range g.pids() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (g *reaperGroup) remove() bool {
	if len(g.pids()) > 0 {
		return false
	}
	g.home.mu.Lock()
	delete(g.home.groups, g)
	g.home.mu.Unlock()
	return true
}
