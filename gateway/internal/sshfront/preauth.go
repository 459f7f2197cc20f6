package sshfront

import (
	"bytes"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgate/wsgate/gateway/internal/edge"
)

// Pre-authentication limits: what a stranger can hold on the SSH port
// before proving who they are. Like OpenSSH's MaxStartups (random early
// drop between a start and a full count) and PerSourceMaxStartups (so
// that one address cannot hold every slot), with one pool for the SSH
// port and one for SSH over HTTPS, so that neither starves the other.
// Refusals are counted (wsgate_ssh_preauth_refused_total) and logged at
// most once per preauthLogEvery, since a flood would otherwise be a flood
// of log lines too.

// Defaults of Config's pre-authentication limits.
var (
	// DefaultStartups: one source holds at most 8 connections that have
	// not authenticated, below the 32 at which random drops start, so a
	// single flooding address never makes anyone else's login a lottery.
	DefaultStartups = edge.Limits{Start: 32, Rate: 30, Full: 128, PerSource: 8}
	// DefaultUpgradeStartups is the SSH over HTTPS pool's (whose clients
	// already showed a valid API token).
	DefaultUpgradeStartups = edge.Limits{Start: 32, Rate: 30, Full: 128, PerSource: 8}
)

// DefaultBannerTimeout bounds the wait for the client's version line
// (OpenSSH sends it at once); HandshakeTimeout then bounds the rest.
const DefaultBannerTimeout = 5 * time.Second

// Pool names, the pool label of the refusal metric.
const (
	poolSSH   = "ssh"
	poolHTTPS = "https"
)

// reasonMaxUnauthenticated is the refusal by MaxUnauthenticated, the hard
// cap over both pools.
const reasonMaxUnauthenticated = "max_unauthenticated"

// preauthLogEvery is the most often refusals are logged.
const preauthLogEvery = time.Minute

// preauth is the front door's pre-authentication accounting.
type preauth struct {
	pools   map[string]*edge.Limiter
	refused *prometheus.CounterVec
	log     *slog.Logger

	mu         sync.Mutex
	lastLog    time.Time
	suppressed int
}

func newPreauth(cfg Config) (*preauth, error) {
	p := &preauth{
		pools: map[string]*edge.Limiter{
			poolSSH:   edge.NewLimiter(*cfg.Startups, nil),
			poolHTTPS: edge.NewLimiter(*cfg.UpgradeStartups, nil),
		},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgate_ssh_preauth_refused_total",
			Help: "SSH connections closed before authentication by the pre-authentication limits, by pool (ssh, https) and reason.",
		}, []string{"pool", "reason"}),
		log: cfg.Logger,
	}
	if cfg.Metrics != nil {
		if err := cfg.Metrics.Register(p.refused); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// admit takes a slot in pool for a connection from remote ("ip:port");
// false (and the refusal counted) when the limits say no.
func (p *preauth) admit(pool, remote string) (release func(), ok bool) {
	release, r := p.pools[pool].Admit(edge.PeerAddr(remote))
	if r != "" {
		p.refuse(pool, string(r), remote)
		return nil, false
	}
	return release, true
}

// refuse counts a refusal and logs it unless one was logged within
// preauthLogEvery; the next line says how many went unlogged.
func (p *preauth) refuse(pool, reason, remote string) {
	p.refused.WithLabelValues(pool, reason).Inc()
	p.mu.Lock()
	now := time.Now()
	if now.Sub(p.lastLog) < preauthLogEvery {
		p.suppressed++
		p.mu.Unlock()
		return
	}
	n := p.suppressed
	p.lastLog, p.suppressed = now, 0
	p.mu.Unlock()
	p.log.Warn("ssh connection refused before authentication (pre-auth limits); further refusals are counted in wsgate_ssh_preauth_refused_total and logged at most once a minute",
		"pool", pool, "reason", reason, "remote", remote, "unlogged_since_last", n)
}

// bannerWatch moves a connection's deadline from the banner timeout to the
// login grace once the client's version line arrived.
type bannerWatch struct {
	waiting atomic.Bool
	seen    func()
}

// read looks for the end of the client's version line (the client sends
// nothing before it) in what was just read.
func (b *bannerWatch) read(p []byte) {
	if b.waiting.Load() && bytes.IndexByte(p, '\n') >= 0 && b.waiting.CompareAndSwap(true, false) {
		b.seen()
	}
}

// watchBanner gives fc BannerTimeout for the client's version line, then
// what is left of HandshakeTimeout (from now) for the rest.
func (s *Server) watchBanner(fc *frontConn, conn net.Conn) {
	start := time.Now()
	_ = conn.SetDeadline(start.Add(min(s.cfg.BannerTimeout, s.cfg.HandshakeTimeout)))
	fc.banner.seen = func() { _ = conn.SetDeadline(start.Add(s.cfg.HandshakeTimeout)) }
	fc.banner.waiting.Store(true)
}
