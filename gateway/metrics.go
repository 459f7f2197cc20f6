package gateway

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Revocation reasons, the label values of wsgate_revocations_total. Each
// matches one message users see when their session is dropped.
const (
	reasonRevoked          = "revoked"
	reasonExpired          = "expired"
	reasonWorkspaceStopped = "workspace_stopped"
	reasonWorkspaceDeleted = "workspace_deleted"
	reasonWorkspaceRenamed = "workspace_renamed"
	reasonKeyRemoved       = "key_removed"
	reasonTokenRevoked     = "token_revoked"
	reasonSuspended        = "suspended"
	reasonUserDeleted      = "user_deleted"
	reasonSharingDisabled  = "sharing_disabled"
	reasonStoreUnreachable = "store_unreachable"
)

// Results of authorization decisions at connect, the label values of
// wsgate_auth_decisions_total.
const (
	resultAllowed     = "allowed"
	resultDenied      = "denied"
	resultUnavailable = "unavailable" // the store could not be asked, nor the cache
)

// Metrics are one gateway replica's revocation and authorization metrics,
// in a registry of their own so that several replicas can run in one
// process (tests) without clashing.
type Metrics struct {
	reg            *prometheus.Registry
	revocations    *prometheus.CounterVec
	dropSeconds    prometheus.Histogram
	sessionsActive prometheus.Gauge
	authDecisions  *prometheus.CounterVec
}

// NewMetrics returns the metrics with every known label value present at
// zero, so that dashboards see the series before the first event.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgate_revocations_total",
			Help: "Live SSH connections and app requests dropped because access ended, by reason.",
		}, []string{"reason"}),
		dropSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wsgate_revoke_drop_seconds",
			Help:    "Time from the store write that ended access to the close of the connection.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		sessionsActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "wsgate_sessions_active",
			Help: "Live SSH connections and app requests (upgraded connections included) proxied to workspaces on this replica.",
		}),
		authDecisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgate_auth_decisions_total",
			Help: "Connect authorization decisions, by result.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.revocations, m.dropSeconds, m.sessionsActive, m.authDecisions)
	for _, r := range []string{reasonRevoked, reasonExpired, reasonWorkspaceStopped, reasonWorkspaceDeleted,
		reasonWorkspaceRenamed, reasonKeyRemoved, reasonTokenRevoked, reasonSuspended, reasonUserDeleted,
		reasonSharingDisabled, reasonStoreUnreachable} {
		m.revocations.WithLabelValues(r)
	}
	for _, r := range []string{resultAllowed, resultDenied, resultUnavailable} {
		m.authDecisions.WithLabelValues(r)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is where the metrics live, for callers that add their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) revoked(reason string, since time.Time) {
	m.revocations.WithLabelValues(reason).Inc()
	if !since.IsZero() {
		m.dropSeconds.Observe(max(time.Since(since), 0).Seconds())
	}
}

func (m *Metrics) decision(result string) { m.authDecisions.WithLabelValues(result).Inc() }
