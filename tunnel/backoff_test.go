package tunnel

import (
	"math"
	"testing"
	"time"
)

func TestBackoffBoundsAndCap(t *testing.T) {
	for _, r := range []float64{0, 0.5, math.Nextafter(1, 0)} {
		b := backoff{min: defaultMinBackoff, max: defaultMaxBackoff, rand: func() float64 { return r }}
		for attempt := range 40 {
			d := b.delay(attempt)
			ceil := min(defaultMinBackoff<<min(attempt, 20), defaultMaxBackoff)
			if d < ceil/2 || d > ceil {
				t.Fatalf("rand %v attempt %d: delay %v outside [%v, %v]", r, attempt, d, ceil/2, ceil)
			}
			if d > 30*time.Second {
				t.Fatalf("attempt %d: delay %v above the 30s cap", attempt, d)
			}
		}
	}
	b := backoff{min: defaultMinBackoff, max: defaultMaxBackoff, rand: func() float64 { return 0 }}
	if got := b.delay(0); got != defaultMinBackoff/2 {
		t.Fatalf("first delay floor = %v, want %v", got, defaultMinBackoff/2)
	}
	if got := b.delay(1000); got != 15*time.Second {
		t.Fatalf("capped delay floor = %v, want 15s", got)
	}
}

func TestBackoffDoesNotOverflow(t *testing.T) {
	b := backoff{min: time.Nanosecond, max: math.MaxInt64, rand: func() float64 { return 0.999 }}
	for attempt := range 200 {
		d := b.delay(attempt)
		if d < 0 || (attempt >= 64 && d < math.MaxInt64/2) {
			t.Fatalf("attempt %d: delay %v, want the capped range", attempt, d)
		}
	}
}

func TestBackoffJitters(t *testing.T) {
	b := backoff{min: defaultMinBackoff, max: defaultMaxBackoff} // real randomness
	seen := map[time.Duration]bool{}
	lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
	for range 200 {
		d := b.delay(4) // ceiling 4s
		seen[d] = true
		lo, hi = min(lo, d), max(hi, d)
	}
	if len(seen) < 150 {
		t.Fatalf("only %d distinct delays in 200 draws", len(seen))
	}
	// 200 uniform draws over [2s, 4s] spread over most of it.
	if hi-lo < time.Second || lo < 2*time.Second || hi > 4*time.Second {
		t.Fatalf("delays span [%v, %v], want most of [2s, 4s]", lo, hi)
	}
}

func TestRetryGrowsAndResetsAfterStableTunnel(t *testing.T) {
	r := retry{
		backoff:     backoff{min: 100 * time.Millisecond, max: 30 * time.Second, rand: func() float64 { return 0 }},
		stableAfter: 10 * time.Second,
	}
	var got []time.Duration
	for _, uptime := range []time.Duration{0, 0, 0, time.Second, 0} { // a short-lived tunnel counts as a failure
		got = append(got, r.next(uptime))
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays = %v, want %v", got, want)
		}
	}
	if d := r.next(time.Minute); d != 50*time.Millisecond {
		t.Fatalf("after a stable tunnel: delay %v, want the first delay 50ms", d)
	}
	if d := r.next(0); d != 100*time.Millisecond {
		t.Fatalf("failure after the reset: delay %v, want 100ms", d)
	}
}
