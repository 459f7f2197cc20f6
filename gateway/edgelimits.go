package gateway

import (
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/sshfront"
)

// Defaults of EdgeLimits, also the flags' defaults.
const (
	// DefaultSSHMaxStartups is OpenSSH's MaxStartups start:rate:full over
	// the connections that have not authenticated yet.
	DefaultSSHMaxStartups = "32:30:128"
	// DefaultSSHPerSourceMaxStartups caps one source (an IPv4 address, an
	// IPv6 /64); below the start of random drops, so that one address
	// cannot make anyone else's login a lottery.
	DefaultSSHPerSourceMaxStartups = 8
	DefaultSSHLoginGraceTime       = sshfront.DefaultHandshakeTimeout
	DefaultSSHBannerTimeout        = sshfront.DefaultBannerTimeout
	DefaultHTTPIdleTimeout         = 20 * time.Second
	DefaultHTTPReadHeaderTimeout   = 10 * time.Second
	// DefaultHTTPMaxConnsPerSource leaves room for an office behind one
	// NAT address (browsers hold about six connections each).
	DefaultHTTPMaxConnsPerSource = 256
)

// EdgeLimits bound what a client can hold before it is trusted. A zero
// field takes its default.
type EdgeLimits struct {
	// SSHMaxStartups ("start:rate:full") and SSHPerSourceMaxStartups limit
	// the SSH port's connections still authenticating; SSH over HTTPS has
	// a pool of its own with the same limits, so that neither starves the
	// other.
	SSHMaxStartups          string
	SSHPerSourceMaxStartups int
	// SSHLoginGraceTime bounds the whole handshake, authentication
	// included; SSHBannerTimeout the wait for the client's version line.
	SSHLoginGraceTime time.Duration
	SSHBannerTimeout  time.Duration
	// HTTPIdleTimeout closes keep-alive connections idle for this long;
	// HTTPReadHeaderTimeout bounds reading a request's headers. There is
	// no whole-request read timeout: it would cut uploads through apps
	// and (as a deadline left on hijacked connections) long-lived
	// upgrades.
	HTTPIdleTimeout       time.Duration
	HTTPReadHeaderTimeout time.Duration
	// HTTPMaxConnsPerSource caps open HTTP connections per TCP peer (an
	// IPv4 address, an IPv6 /64); trusted proxies are not capped, since
	// they carry everyone's connections.
	HTTPMaxConnsPerSource int
}

// withDefaults fills the zero fields and parses the SSH limits.
func (e EdgeLimits) withDefaults() (EdgeLimits, edge.Limits, error) {
	if e.SSHMaxStartups == "" {
		e.SSHMaxStartups = DefaultSSHMaxStartups
	}
	if e.SSHPerSourceMaxStartups == 0 {
		e.SSHPerSourceMaxStartups = DefaultSSHPerSourceMaxStartups
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&e.SSHLoginGraceTime, DefaultSSHLoginGraceTime)
	def(&e.SSHBannerTimeout, DefaultSSHBannerTimeout)
	def(&e.HTTPIdleTimeout, DefaultHTTPIdleTimeout)
	def(&e.HTTPReadHeaderTimeout, DefaultHTTPReadHeaderTimeout)
	if e.HTTPMaxConnsPerSource == 0 {
		e.HTTPMaxConnsPerSource = DefaultHTTPMaxConnsPerSource
	}
	if e.SSHPerSourceMaxStartups < 0 || e.HTTPMaxConnsPerSource < 0 || e.SSHLoginGraceTime < 0 || e.SSHBannerTimeout < 0 ||
		e.HTTPIdleTimeout < 0 || e.HTTPReadHeaderTimeout < 0 {
		return e, edge.Limits{}, fmt.Errorf("edge limits must not be negative")
	}
	l, err := edge.ParseStartups(e.SSHMaxStartups)
	if err != nil {
		return e, l, fmt.Errorf("ssh max startups: %w", err)
	}
	l.PerSource = e.SSHPerSourceMaxStartups
	return e, l, nil
}

// limitHTTP caps the HTTP listener's connections per source, counting
// refusals in wsgate_http_conns_refused_total.
func limitHTTP(ln net.Listener, e EdgeLimits, proxies edge.Proxies, metrics prometheus.Registerer) (net.Listener, error) {
	refused := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wsgate_http_conns_refused_total",
		Help: "HTTP connections closed at once because their source held --http-max-conns-per-source.",
	})
	if err := metrics.Register(refused); err != nil {
		return nil, fmt.Errorf("gateway: metrics: %w", err)
	}
	lm := edge.NewLimiter(edge.Limits{PerSource: e.HTTPMaxConnsPerSource}, nil)
	return edge.LimitListener(ln, lm, proxies.Trusts, func(string, edge.Refusal) { refused.Inc() }), nil
}
