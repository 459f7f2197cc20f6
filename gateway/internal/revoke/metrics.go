package revoke

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Revocation reasons, the label values of wsgate_revocations_total. Each
// matches one message users see when their session is dropped.
const (
	reasonRevoked          = "revoked"
	reasonExpired          = "expired"
	reasonWorkspaceStopped = "workspace_stopped"
	reasonWorkspaceDeleted = "workspace_deleted"
	reasonKeyRemoved       = "key_removed"
	reasonTokenRevoked     = "token_revoked"
	reasonSuspended        = "suspended"
	reasonUserDeleted      = "user_deleted"
	reasonSharingDisabled  = "sharing_disabled"
	reasonStoreUnreachable = "store_unreachable"
	reasonAgentRotated     = "agent_token_rotated"
)

// metrics count revocations and how long they took.
type metrics struct {
	revocations *prometheus.CounterVec
	dropSeconds prometheus.Histogram
}

// newMetrics makes the metrics with every known label value present at
// zero, so that dashboards see the series before the first event, and
// registers them on reg when it is not nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wsgate_revocations_total",
			Help: "Live SSH connections and app requests dropped because access ended, by reason.",
		}, []string{"reason"}),
		dropSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wsgate_revoke_drop_seconds",
			Help:    "Time from the store write that ended access to the close of the connection.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	for _, r := range []string{reasonRevoked, reasonExpired, reasonWorkspaceStopped, reasonWorkspaceDeleted,
		reasonKeyRemoved, reasonTokenRevoked, reasonSuspended, reasonUserDeleted,
		reasonSharingDisabled, reasonStoreUnreachable, reasonCredentialExpired, reasonCertRevoked} {
		m.revocations.WithLabelValues(r)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.revocations, m.dropSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) revoked(reason string, since time.Time) {
	m.revocations.WithLabelValues(reason).Inc()
	if !since.IsZero() {
		m.dropSeconds.Observe(max(time.Since(since), 0).Seconds())
	}
}
