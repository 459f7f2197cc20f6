package revoke

import (
	"context"
	"time"
)

// watchStore probes the store; in strict mode it drops every live session
// once the grace has passed without contact. A probe that succeeds after
// a re-check failed for lack of the store triggers the owed re-check.
func (r *Revoker) watchStore(ctx context.Context) error {
	t := time.NewTicker(r.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := r.authz.Probe(ctx); err == nil {
			r.mu.Lock()
			owed := r.resync
			r.mu.Unlock()
			if owed {
				r.poke()
			}
			continue
		}
		if r.cfg.LockMode == LockStrict && r.authz.SinceContact() > r.authz.Grace() {
			for _, ls := range r.reg.All() {
				r.dropAsync(ls, reasonStoreUnreachable, "access can no longer be checked: the access store is unreachable", time.Time{})
			}
		}
	}
}
