package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// The cgroup v2 backend. The process's own cgroup (from /proc/self/cgroup,
// under the cgroup2 mount found in /proc/self/mountinfo) gets a subtree
// wsgate-agent-<pid>: the process itself moves to its leaf "agent" (v2
// allows no processes in an inner node once controllers are enabled below
// it), and each connection that starts a process gets a leaf of its own,
// which its processes are started straight into (clone3 with
// CLONE_INTO_CGROUP, Linux 5.7; else the pid is written to cgroup.procs
// right after the start, which a process that forks at once can race). A
// process cannot leave its cgroup unless it may write cgroup.procs files
// of the tree: with sessions under another OS user than the agent
// (--run-as), nothing a session starts escapes; run as the agent's own
// user, a session could move itself out. The subtree is shared by every
// Agent of the process and removed when the last one closes; processes
// still in it then go back to the cgroup the process started in.

// cgroupHome is the process's wsgate subtree.
type cgroupHome struct {
	orig  string // the cgroup the process started in (a directory)
	base  string // orig/wsgate-agent-<pid>
	clone bool   // processes can be started straight into a cgroup
	log   *slog.Logger
}

var (
	cgHomeMu   sync.Mutex
	cgHome     *cgroupHome
	cgHomeRefs int
	cgGroupSeq atomic.Uint64 // names connection cgroups across Agents
)

// acquireCgroupHome returns the process's subtree, making it on first use.
// shell is run once, to learn whether clone3 into a cgroup works here.
func acquireCgroupHome(shell string, log *slog.Logger) (*cgroupHome, error) {
	cgHomeMu.Lock()
	defer cgHomeMu.Unlock()
	if cgHome != nil {
		cgHomeRefs++
		return cgHome, nil
	}
	h, err := makeCgroupHome(shell, log)
	if err != nil {
		return nil, err
	}
	cgHome, cgHomeRefs = h, 1
	return h, nil
}

func (h *cgroupHome) release() {
	cgHomeMu.Lock()
	defer cgHomeMu.Unlock()
	if cgHomeRefs--; cgHomeRefs > 0 {
		return
	}
	cgHome = nil
	h.teardown()
}

func makeCgroupHome(shell string, log *slog.Logger) (*cgroupHome, error) {
	orig, err := ownCgroupDir()
	if err != nil {
		return nil, err
	}
	removeStaleHomes(orig)
	h := &cgroupHome{orig: orig, base: filepath.Join(orig, "wsgate-agent-"+strconv.Itoa(os.Getpid())), log: log}
	if err := os.Mkdir(h.base, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup %s not writable: %w", orig, err)
	}
	leaf := filepath.Join(h.base, "agent")
	if err := os.Mkdir(leaf, 0o755); err != nil {
		_ = os.Remove(h.base)
		return nil, fmt.Errorf("make cgroup: %w", err)
	}
	if _, err := os.Stat(filepath.Join(leaf, "cgroup.kill")); err != nil {
		_ = os.Remove(leaf)
		_ = os.Remove(h.base)
		return nil, fmt.Errorf("no cgroup.kill (Linux before 5.14): %w", err)
	}
	if err := moveToCgroup(leaf, os.Getpid()); err != nil {
		_ = os.Remove(leaf)
		_ = os.Remove(h.base)
		return nil, fmt.Errorf("move the agent into its cgroup: %w", err)
	}
	h.clone = probeCloneIntoCgroup(shell, leaf)
	return h, nil
}

// removeStaleHomes removes the empty subtrees of agents that died
// without removing theirs (a crash, SIGKILL); one whose process lives, or
// that still holds a process, stays.
func removeStaleHomes(orig string) {
	entries, _ := os.ReadDir(orig)
	for _, e := range entries {
		pidText, ok := strings.CutPrefix(e.Name(), "wsgate-agent-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			continue
		}
		(&cgroupGroup{dir: filepath.Join(orig, e.Name())}).remove()
	}
}

// ownCgroupDir finds this process's cgroup v2 directory.
func ownCgroupDir() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", fmt.Errorf("read own cgroup: %w", err)
	}
	var path string
	found := false
	for line := range strings.SplitSeq(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			path, found = p, true
		}
	}
	if !found {
		return "", errors.New("no cgroup v2 entry in /proc/self/cgroup")
	}
	mounts, err := cgroup2Mounts()
	if err != nil {
		return "", err
	}
	for _, m := range mounts {
		rel, ok := strings.CutPrefix(path, m.root)
		if ok && (m.root == "/" || rel == "" || rel[0] == '/') {
			return filepath.Join(m.point, rel), nil
		}
	}
	return "", errors.New("no cgroup2 mount holds this process's cgroup")
}

type mountPoint struct{ root, point string }

// cgroup2Mounts lists the cgroup2 mounts of /proc/self/mountinfo.
func cgroup2Mounts() ([]mountPoint, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var out []mountPoint
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent maj:min root point options [optional...] - fstype source super
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields := strings.Fields(pre)
		if !ok || len(fields) < 5 || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		out = append(out, mountPoint{root: unescapeMount(fields[3]), point: unescapeMount(fields[4])})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	if len(out) == 0 {
		return nil, errors.New("no cgroup2 mount")
	}
	return out, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func moveToCgroup(dir string, pid int) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
}

// probeCloneIntoCgroup reports whether a process can be started straight
// into a cgroup (clone3 can be missing, or refused by a seccomp filter).
func probeCloneIntoCgroup(shell, dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	cmd := exec.Command(shell, "-c", "exit 0")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(f.Fd())}
	return cmd.Run() == nil
}

// teardown removes the subtree: processes still in it go back to the
// cgroup the process started in, the process too.
func (h *cgroupHome) teardown() {
	entries, _ := os.ReadDir(h.base)
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "agent" {
			continue
		}
		g := &cgroupGroup{home: h, dir: filepath.Join(h.base, e.Name())}
		for _, pid := range g.pids() {
			if err := moveToCgroup(h.orig, pid); err != nil {
				h.log.Warn("could not move a process out of its connection's cgroup", "pid", pid, "err", err)
			}
		}
		if !g.remove() {
			h.log.Warn("connection cgroup left behind", "cgroup", g.dir)
		}
	}
	if err := moveToCgroup(h.orig, os.Getpid()); err != nil {
		h.log.Warn("agent cgroup left behind", "cgroup", h.base, "err", err)
		return
	}
	_ = os.Remove(filepath.Join(h.base, "agent"))
	if err := os.Remove(h.base); err != nil {
		h.log.Warn("agent cgroup left behind", "cgroup", h.base, "err", err)
	}
}

// cgroupBackend gives each connection a leaf of the process's subtree.
type cgroupBackend struct{ home *cgroupHome }

func (cgroupBackend) kind() string { return "cgroup" }

func (b cgroupBackend) release() { b.home.release() }

func (b cgroupBackend) newGroup(user string, _ uint64) (procGroup, error) {
	dir := filepath.Join(b.home.base, "c"+strconv.FormatUint(cgGroupSeq.Add(1), 10)+"-"+cgroupSafe(user))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make connection cgroup: %w", err)
	}
	return &cgroupGroup{home: b.home, dir: dir}, nil
}

// cgroupSafe keeps a user name readable in a cgroup's directory name.
func cgroupSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 64 {
		b = b[:64]
	}
	return string(b)
}

// cgroupGroup is one connection's cgroup.
type cgroupGroup struct {
	home *cgroupHome
	dir  string
}

func (g *cgroupGroup) prepare(attr *syscall.SysProcAttr) func(*os.Process) {
	if g.home.clone {
		if f, err := os.Open(g.dir); err == nil {
			attr.UseCgroupFD, attr.CgroupFD = true, int(f.Fd())
			return func(*os.Process) { _ = f.Close() }
		}
	}
	return func(p *os.Process) {
		if p == nil {
			return
		}
		if err := moveToCgroup(g.dir, p.Pid); err != nil {
			g.home.log.Warn("process not moved into its connection's cgroup", "pid", p.Pid, "err", err)
		}
	}
}

// pids reads cgroup.procs of the group and of any cgroup below it,
// leaving out exited processes.
func (g *cgroupGroup) pids() []int {
	var out []int
	_ = filepath.WalkDir(g.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
		if err != nil {
			return nil
		}
		for f := range strings.FieldsSeq(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil || slices.Contains(out, pid) {
				continue
			}
			// An exited process stays listed until its parent (init,
			// for an orphan) reaps it; it is not left to end.
			if st, ok := readProcStat(pid); ok && st.state != 'Z' {
				out = append(out, pid)
			}
		}
		return nil
	})
	return out
}

func (g *cgroupGroup) killAll() {
	if err := os.WriteFile(filepath.Join(g.dir, "cgroup.kill"), []byte("1"), 0); err == nil {
		return
	}
	for _, pid := range g.pids() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// remove deletes the group's cgroups, deepest first; false while a
// process is left in one.
func (g *cgroupGroup) remove() bool {
	var dirs []string
	_ = filepath.WalkDir(g.dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	for _, d := range slices.Backward(dirs) {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	return true
}
