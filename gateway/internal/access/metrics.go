package access

import "github.com/prometheus/client_golang/prometheus"

// Result is the outcome of a connect decision at a front door, the label
// of wsgate_auth_decisions_total.
type Result string

const (
	Allowed     Result = "allowed"
	Denied      Result = "denied"
	Unavailable Result = "unavailable" // the store could not be asked, nor the cache
)

func newDecisionCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "wsgate_auth_decisions_total",
		Help: "Connect authorization decisions, by result.",
	}, []string{"result"})
	for _, r := range []Result{Allowed, Denied, Unavailable} {
		c.WithLabelValues(string(r))
	}
	if reg != nil {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Count records one decision made at a front door.
func (a *Authorizer) Count(r Result) { a.decisions.WithLabelValues(string(r)).Inc() }
