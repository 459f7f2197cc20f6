package agent

import (
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/control"
)

// statsBook counts the agent's live streams and traffic.
type statsBook struct {
	started   time.Time
	in, out   atomic.Uint64
	mu        sync.Mutex
	users     map[string]*control.UserStats
	loadAvgFn func() []float64
}

func newStatsBook() *statsBook {
	return &statsBook{started: time.Now(), users: map[string]*control.UserStats{}, loadAvgFn: readLoadAvg}
}

// change applies f to user's counts, dropping users whose counts reach 0.
func (b *statsBook) change(user string, f func(*control.UserStats)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	u := b.users[user]
	if u == nil {
		u = &control.UserStats{Name: user}
		b.users[user] = u
	}
	f(u)
	if u.Connections == 0 && u.Sessions == 0 && u.TCPStreams == 0 {
		delete(b.users, user)
	}
}

// stream wraps conn to count its bytes and, for a conn (a user SSH
// connection) or tcp stream, counts it for h.User until the returned func
// is called. A channel stream counts only its bytes: its connection is
// counted already, and a session channel by session.
func (b *statsBook) stream(conn net.Conn, h tunnel.Header) (net.Conn, func()) {
	counted := &countingConn{Conn: conn, in: &b.in, out: &b.out}
	if h.Kind == tunnel.KindChannel {
		return counted, func() {}
	}
	delta := func(n int) func(*control.UserStats) {
		return func(u *control.UserStats) {
			if h.Kind == tunnel.KindTCP {
				u.TCPStreams += n
			} else {
				u.Connections += n
			}
		}
	}
	b.change(h.User, delta(1))
	return counted, func() { b.change(h.User, delta(-1)) }
}

// session counts a live session channel of user until the returned func is
// called.
func (b *statsBook) session(user string) func() {
	b.change(user, func(u *control.UserStats) { u.Sessions++ })
	return func() { b.change(user, func(u *control.UserStats) { u.Sessions-- }) }
}

func (b *statsBook) snapshot() control.Stats {
	now := time.Now()
	s := control.Stats{
		StartedAt:     b.started,
		UptimeSeconds: now.Sub(b.started).Seconds(),
		LoadAverage:   b.loadAvgFn(),
		BytesIn:       b.in.Load(),
		BytesOut:      b.out.Load(),
		Users:         []control.UserStats{},
	}
	b.mu.Lock()
	for _, u := range b.users {
		s.Users = append(s.Users, *u)
		s.Connections += u.Connections
		s.Sessions += u.Sessions
		s.TCPStreams += u.TCPStreams
	}
	b.mu.Unlock()
	sort.Slice(s.Users, func(i, j int) bool { return s.Users[i].Name < s.Users[j].Name })
	return s
}

// readLoadAvg reads the 1, 5 and 15 minute load averages from
// /proc/loadavg; nil when it cannot.
func readLoadAvg() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	return parseLoadAvg(string(b))
}

func parseLoadAvg(s string) []float64 {
	f := strings.Fields(s)
	if len(f) < 3 {
		return nil
	}
	out := make([]float64, 3)
	for i := range out {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil || v < 0 {
			return nil
		}
		out[i] = v
	}
	return out
}

// countingConn counts the bytes read from and written to a stream. It keeps
// the stream's half-close, which the relays need.
type countingConn struct {
	net.Conn
	in, out *atomic.Uint64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(uint64(n))
	return n, err
}

// CloseWrite half-closes the stream when it can; like noHalfClose it does
// nothing otherwise, so the EOF travels with the full close.
func (c *countingConn) CloseWrite() error {
	if hc, ok := c.Conn.(tunnel.HalfCloser); ok {
		return hc.CloseWrite()
	}
	return nil
}

// Stats reports the agent's live connections, traffic, uptime and load.
func (a *Agent) Stats() control.Stats { return a.stats.snapshot() }

// Logs returns up to n of the agent's most recent log lines (info and
// above), oldest first.
func (a *Agent) Logs(n int) []string { return a.logs.last(n) }
