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
	"testing"
	"time"
)

// devMeter reads a running `wsgate dev` from outside: /proc for memory,
// threads, descriptors and children, its pprof listener for goroutines and
// its /metrics for the live session count.
type devMeter struct {
	pid     int
	pprof   string // http://host:port of --pprof-addr
	metrics string // the gateway's /metrics URL
}

// devSample is the dev process at one moment.
type devSample struct {
	rssKiB, goroutines, threads, fds int64
	children                         int
}

func (s devSample) String() string {
	return fmt.Sprintf("rss %.1f MiB, %d goroutines, %d threads, %d fds, %d children",
		float64(s.rssKiB)/1024, s.goroutines, s.threads, s.fds, s.children)
}

// settleWait, settleTries and settleTolerance: a settled reading comes
// after settleWait, from two reads a second apart whose RSS and goroutine
// counts agree within settleTolerance, within settleTries reads.
const (
	settleWait      = 2 * time.Second
	settleTries     = 60
	settleTolerance = 0.03
)

// settled waits and reads until two reads in a row agree, and returns the
// last; figures that never settle are no figures, so that fails b.
func (m *devMeter) settled(b testing.TB) devSample {
	b.Helper()
	time.Sleep(settleWait)
	prev := m.sample(b)
	for range settleTries {
		time.Sleep(time.Second)
		cur := m.sample(b)
		if near(cur.rssKiB, prev.rssKiB) && near(cur.goroutines, prev.goroutines) {
			return cur
		}
		prev = cur
	}
	b.Fatalf("wsgate dev did not settle in %d reads: last %s", settleTries, prev)
	return devSample{}
}

func near(a, b int64) bool {
	d := float64(a - b)
	return d*d <= settleTolerance*settleTolerance*float64(b)*float64(b)
}

// sample forces a GC in the dev process (the heap profile's gc=1), so
// garbage not yet collected does not count, and reads it.
func (m *devMeter) sample(b testing.TB) devSample {
	b.Helper()
	if _, err := httpGet(m.pprof + "/debug/pprof/heap?gc=1"); err != nil {
		b.Fatal(err)
	}
	var s devSample
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
	s.children = m.children(b)
	if s.goroutines, err = m.goroutines(); err != nil {
		b.Fatal(err)
	}
	if s.rssKiB == 0 || s.threads == 0 {
		b.Fatalf("/proc/%d/status has no VmRSS or Threads:\n%s", m.pid, status)
	}
	return s
}

// goroutines is the total in the dev process's goroutine profile, whose
// first line reads "goroutine profile: total N".
func (m *devMeter) goroutines() (int64, error) {
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

// children counts the dev process's child processes (each thread lists
// the children it started).
func (m *devMeter) children(b testing.TB) int {
	b.Helper()
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", m.pid))
	if err != nil || len(files) == 0 {
		b.Fatalf("/proc/%d/task/*/children: %v (no files: kernel without CONFIG_PROC_CHILDREN?)", m.pid, err)
	}
	n := 0
	for _, f := range files {
		// A thread that ended since the glob has no file; it has no children either.
		if text, err := os.ReadFile(f); err == nil {
			n += len(strings.Fields(string(text)))
		}
	}
	return n
}

// waitIdle waits until the gateway counts sessions live sessions and the
// dev process has children child processes.
func (m *devMeter) waitIdle(b testing.TB, sessions, children int) {
	b.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		active, err := m.activeSessions()
		if err != nil {
			b.Fatal(err)
		}
		kids := m.children(b)
		if active == sessions && kids == children {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("waiting for %d sessions and %d child processes: have %d and %d", sessions, children, active, kids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// activeSessions is wsgate_sessions_active from the gateway's /metrics.
func (m *devMeter) activeSessions() (int, error) {
	body, err := httpGet(m.metrics)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wsgate_sessions_active "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: wsgate_sessions_active %q: %w", m.metrics, v, err)
			}
			return int(f), nil
		}
	}
	return 0, fmt.Errorf("%s has no wsgate_sessions_active", m.metrics)
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
