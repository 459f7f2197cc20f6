package revoke

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
)

// recheck re-evaluates connect for each session against a fresh snapshot,
// loaded once per (user, workspace), and drops those that fail.
func (r *Revoker) recheck(ctx context.Context, ev acl.Event, live []*sessions.Session) {
	if len(live) == 0 {
		return
	}
	groups := map[checkKey][]*sessions.Session{}
	var keys []checkKey
	for _, ls := range live {
		if ls.Dropping() {
			continue
		}
		k := checkKey{ls.Info.User, ls.Info.WorkspaceUID}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], ls)
	}
	// Each (user, workspace) is applied as soon as its own check is done:
	// in a mass revoke the first sessions are told while the last
	// snapshots still load.
	var wg sync.WaitGroup
	sem := make(chan struct{}, recheckParallelism)
	for _, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.apply(ctx, ev, k, groups[k], r.check(ctx, k, groups[k][0].Info.Workspace))
		}()
	}
	wg.Wait()
}

// apply acts on one re-check: keeps the sessions of k (with their new
// expiry) or drops them with the reason.
func (r *Revoker) apply(ctx context.Context, ev acl.Event, k checkKey, live []*sessions.Session, c check) {
	if c.err != nil {
		if ctx.Err() == nil {
			// Keep the sessions, and check them all once the store
			// answers again.
			r.log.Warn("re-check failed; sessions kept until the store answers", "user", k.user, "workspace", c.ws.String(), "err", c.err)
			r.oweResync()
		}
		return
	}
	r.noteOwner(k.uid, live[0].Info.Workspace, c.ws)
	now := r.now()
	for _, ls := range live {
		if c.d.Allow {
			ls.SetValidUntil(c.validUntil)
			if !c.validUntil.IsZero() {
				r.noteExpiry(c.validUntil)
			}
			continue
		}
		reason, msg := dropReason(ev, ls, c.ws, c.d, now)
		r.dropAsync(ls, reason, msg, ev.At)
	}
}

// checkKey is what one re-check decides: a user on a workspace, by UID.
type checkKey struct {
	user string
	uid  string
}

// check is the outcome of one re-check.
type check struct {
	ws         acl.WorkspaceID // the workspace's current name
	d          acl.Decision
	validUntil time.Time
	err        error
}

// check decides connect for k from the store. The snapshot must be of the
// session's own workspace, by UID: one deleted and created again under the
// same name is another, and the sessions' workspace is gone. named is the
// name the sessions know; it is tried first (the common case), and only
// when it names another workspace or none is the UID looked up, so that a
// rename keeps the sessions.
func (r *Revoker) check(ctx context.Context, k checkKey, named acl.WorkspaceID) check {
	snap, err := r.authz.Load(ctx, k.user, named)
	if err != nil {
		return check{ws: named, err: err}
	}
	if snap.WorkspaceUID(named) == k.uid {
		return decided(snap, k.user, named)
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	w, err := r.store.GetWorkspaceByUID(gctx, k.uid)
	cancel()
	switch {
	case errors.Is(err, acl.ErrNotFound):
		return check{ws: named, d: acl.Decision{Reason: acl.ReasonNoWorkspace}}
	case err != nil:
		return check{ws: named, err: err}
	}
	if snap, err = r.authz.Load(ctx, k.user, w.ID()); err != nil {
		return check{ws: w.ID(), err: err}
	}
	if snap.WorkspaceUID(w.ID()) != k.uid {
		// Renamed or deleted again between the two reads.
		return check{ws: named, d: acl.Decision{Reason: acl.ReasonNoWorkspace}}
	}
	return decided(snap, k.user, w.ID())
}

func decided(snap *acl.Snapshot, user string, ws acl.WorkspaceID) check {
	return check{ws: ws, d: acl.Authorize(snap, user, acl.ActionConnect, ws), validUntil: snap.ValidUntil()}
}

// dropReason says why a session that failed its re-check ends, as
// precisely as the event and the decision allow; ws is the workspace's
// current name.
func dropReason(ev acl.Event, ls *sessions.Session, ws acl.WorkspaceID, d acl.Decision, now time.Time) (reason, msg string) {
	if ev.Kind == acl.EventWorkspaceTransferred && d.Reason == acl.ReasonNoRole && ls.Info.User == ev.User {
		return reasonRevoked, fmt.Sprintf("workspace %s was transferred to %s; you no longer have access to it", ev.Workspace, ev.NewOwner)
	}
	switch d.Reason {
	case acl.ReasonSuspended:
		return reasonSuspended, "your account was suspended"
	case acl.ReasonNoUser:
		return reasonUserDeleted, "your account was deleted"
	case acl.ReasonNoWorkspace:
		return reasonWorkspaceDeleted, fmt.Sprintf("workspace %s was deleted", ws)
	}
	exp := ls.ValidUntil()
	switch {
	case ev.Kind == acl.EventGrantExpired, !exp.IsZero() && !now.Before(exp):
		return reasonExpired, fmt.Sprintf("your access to %s expired", ws)
	case ev.Kind == acl.EventSharingDisabled:
		return reasonSharingDisabled, "workspace sharing was disabled"
	}
	return reasonRevoked, fmt.Sprintf("access to %s was revoked", ws)
}

// dropAsync drops ls without holding up the caller: a client that does not
// read must not delay the next event.
func (r *Revoker) dropAsync(ls *sessions.Session, reason, msg string, at time.Time) {
	if ls.Dropping() {
		return
	}
	r.drops.Add(1)
	go func() {
		defer r.drops.Done()
		if ls.Drop(msg, DropWait) {
			r.metrics.revoked(reason, at)
			r.log.Info("session revoked", "session", ls.Info.ID, "user", ls.Info.User,
				"workspace", ls.Info.Workspace.String(), "reason", reason)
		}
	}()
}
