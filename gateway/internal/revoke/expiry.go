package revoke

import (
	"context"
	"time"
)

// sweepExpired drops the sessions whose credential expired and removes
// expired grants from the store: once at start, for expiries that passed
// while no gateway ran, then at each live session's expiry (of its access
// or of its credential) and at least every SweepInterval. The store's EventGrantExpired
// then drops the sessions on every replica; replicas that sweep the same
// grant find it gone, so each expiry is announced once.
func (r *Revoker) sweepExpired(ctx context.Context) error {
	last := r.sweepOnce(ctx)
	for {
		next := last.Add(r.cfg.SweepInterval)
		if e := r.reg.NextExpiry(last); !e.IsZero() && e.Before(next) {
			next = e
		}
		t := time.NewTimer(max(next.Sub(r.now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-r.reg.Expiring():
			// A session with an expiry registered: it may be the next.
			t.Stop()
			continue
		case <-r.expiryKick:
			// A session with an expiry registered: it may be the next.
			t.Stop()
			continue
		case <-t.C:
		}
		last = r.sweepOnce(ctx)
	}
}

// sweepOnce deletes the grants expired by now and returns now. Failures
// are logged: the next sweep tries again.
func (r *Revoker) sweepOnce(ctx context.Context) time.Time {
	now := r.now()
	r.dropExpiredCredentials(now)
	sctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	n, err := r.store.DeleteExpiredGrants(sctx, now)
	cancel()
	switch {
	case err != nil && ctx.Err() == nil:
		r.log.Debug("removing expired grants failed", "err", err)
	case n > 0:
		r.log.Info("expired grants removed", "count", n)
	}
	return now
}

// noteExpiry wakes the sweeper, which then plans for t.
func (r *Revoker) noteExpiry(time.Time) {
	select {
	case r.expiryKick <- struct{}{}:
	default:
	}
}
