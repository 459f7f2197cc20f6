package tunnel

import (
	"math/rand/v2"
	"time"
)

const (
	defaultMinBackoff = 250 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
	// A tunnel that stayed up this long was healthy: the next reconnect
	// starts again from the shortest delay.
	defaultStableAfter = 10 * time.Second
)

// backoff computes jittered exponential delays: attempt n waits a random
// duration in [d/2, d] where d = min(min·2ⁿ, max). The random half spreads
// agents that lost the same gateway; the fixed half keeps a floor.
type backoff struct {
	min, max time.Duration
	rand     func() float64 // in [0, 1); rand.Float64 unless a test sets it
}

func (b backoff) delay(attempt int) time.Duration {
	d := b.min
	for i := 0; i < attempt && d < b.max; i++ {
		if d > b.max/2 {
			d = b.max // doubling would pass the cap (or overflow)
			break
		}
		d *= 2
	}
	d = min(d, b.max)
	r := b.rand
	if r == nil {
		r = rand.Float64
	}
	half := d / 2
	return half + time.Duration(r()*float64(d-half))
}

// retry tracks the reconnect attempts of one Run.
type retry struct {
	backoff
	stableAfter time.Duration
	attempt     int
}

// next returns how long to wait after a tunnel that stayed up for uptime
// (0 when the dial failed).
func (r *retry) next(uptime time.Duration) time.Duration {
	if uptime >= r.stableAfter {
		r.attempt = 0
	}
	d := r.delay(r.attempt)
	r.attempt++
	return d
}
