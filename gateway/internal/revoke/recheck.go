package revoke

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// Every user this re-check drops is told before the first dropped
	// connection is torn down (sessions.Registry.HoldTeardown).
	defer r.reg.HoldTeardown()()
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
	// The workspace's part of the snapshots is read once per workspace,
	// then its users recheckBatch at a time; each batch is applied as soon
	// as it is decided.
	byUID := map[string][]checkKey{}
	var uids []string
	for _, k := range keys {
		if byUID[k.uid] == nil {
			uids = append(uids, k.uid)
		}
		byUID[k.uid] = append(byUID[k.uid], k)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, recheckParallelism)
	for _, uid := range uids {
		ks := byUID[uid]
		f, ws, err := r.facts(ctx, uid, groups[ks[0]][0].Info.Workspace)
		for batch := range slices.Chunk(ks, recheckBatch) {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				users := make([]string, len(batch))
				for i, k := range batch {
					users[i] = k.user
				}
				for i, c := range r.checkUsers(ctx, f, ws, err, users) {
					r.apply(ctx, ev, batch[i], groups[batch[i]], c)
				}
			}()
		}
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

// facts reads the workspace part of fresh snapshots of the workspace with
// UID uid, and its current name. It must be the sessions' own workspace,
// by UID: one deleted and created again under the same name is another,
// and the sessions' workspace is gone (nil facts). named is the name the
// sessions know; it is tried first (the common case), and only when it
// names another workspace or none is the UID looked up, so that a rename
// keeps the sessions.
func (r *Revoker) facts(ctx context.Context, uid string, named acl.WorkspaceID) (*acl.WorkspaceFacts, acl.WorkspaceID, error) {
	f, err := r.authz.LoadFacts(ctx, named)
	if err != nil || f.WorkspaceUID() == uid {
		return f, named, err
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	w, err := r.store.GetWorkspaceByUID(gctx, uid)
	cancel()
	switch {
	case errors.Is(err, acl.ErrNotFound):
		return nil, named, nil
	case err != nil:
		return nil, named, err
	}
	if f, err = r.authz.LoadFacts(ctx, w.ID()); err != nil {
		return nil, w.ID(), err
	}
	if f.WorkspaceUID() != uid {
		// Renamed or deleted again between the two reads.
		return nil, named, nil
	}
	return f, w.ID(), nil
}

// checkAll decides connect for each of users on the workspace with UID uid
// (named, as the caller knows it), recheckBatch users a read.
func (r *Revoker) checkAll(ctx context.Context, uid string, named acl.WorkspaceID, users []string) []check {
	f, ws, err := r.facts(ctx, uid, named)
	out := make([]check, 0, len(users))
	for batch := range slices.Chunk(users, recheckBatch) {
		out = append(out, r.checkUsers(ctx, f, ws, err, batch)...)
	}
	return out
}

// checkUsers decides connect for each of users on the workspace of facts f
// (nil: it is gone) named ws, reading the users at once; ferr is the
// error reading f.
func (r *Revoker) checkUsers(ctx context.Context, f *acl.WorkspaceFacts, ws acl.WorkspaceID, ferr error, users []string) []check {
	out := make([]check, len(users))
	fill := func(c check) []check {
		for i := range out {
			out[i] = c
		}
		return out
	}
	switch {
	case ferr != nil:
		return fill(check{ws: ws, err: ferr})
	case f == nil:
		return fill(check{ws: ws, d: acl.Decision{Reason: acl.ReasonNoWorkspace}})
	}
	snap, err := r.authz.Snapshot(ctx, f, users)
	if err != nil {
		return fill(check{ws: ws, err: err})
	}
	for i, u := range users {
		out[i] = decided(snap, u, ws)
	}
	return out
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

// dropAsync drops ls without holding up the caller: it cuts the session
// (its owner tells the user and closes) and records the drop once the
// owner has ended it; a client that does not read must not delay the next
// event.
func (r *Revoker) dropAsync(ls *sessions.Session, reason, msg string, at time.Time) {
	if !ls.Cut(msg) {
		return
	}
	r.drops.Add(1)
	ls.AfterEnd(func() {
		defer r.drops.Done()
		r.metrics.revoked(reason, at)
		r.log.Info("session revoked", "session", ls.Info.ID, "user", ls.Info.User,
			"workspace", ls.Info.Workspace.String(), "reason", reason)
	})
}
