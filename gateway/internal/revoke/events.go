package revoke

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
)

// followEvents subscribes to the store and handles every event, and the
// re-checks sessions ask for, one at a time. A lost feed is subscribed
// again, and then everything is re-checked: events may have been missed.
func (r *Revoker) followEvents(ctx context.Context) error {
	backoff := subscribeBackoffMin
	for first := true; ; first = false {
		events, err := r.store.Subscribe(ctx)
		for err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Warn("subscribe to store events failed; retrying", "err", err, "backoff", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, subscribeBackoffMax)
			events, err = r.store.Subscribe(ctx)
		}
		backoff = subscribeBackoffMin
		r.authz.SetLive(true)
		if !first {
			r.handle(ctx, acl.Event{Kind: acl.EventResync, At: r.now()})
		}
		r.consume(ctx, events)
		r.authz.SetLive(false)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("store event feed ended; subscribing again")
	}
}

func (r *Revoker) consume(ctx context.Context, events <-chan acl.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			r.handle(ctx, ev)
		case <-r.kick:
			r.handlePending(ctx)
		case <-r.reg.Stale():
			r.handlePending(ctx)
		}
	}
}

// oweResync asks for every session to be re-checked.
func (r *Revoker) oweResync() {
	r.mu.Lock()
	r.resync = true
	r.mu.Unlock()
}

func (r *Revoker) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Revoker) handlePending(ctx context.Context) {
	// Sessions tracked after an invalidation may have missed the event
	// behind it.
	pending := r.reg.TakeStale()
	r.mu.Lock()
	resync := r.resync
	r.resync = false
	r.mu.Unlock()
	if resync {
		r.handle(ctx, acl.Event{Kind: acl.EventResync})
		return
	}
	if len(pending) > 0 {
		r.recheck(ctx, acl.Event{Kind: acl.EventResync}, pending)
	}
}

// handle applies one event: the cache forgets everything, and the sessions
// the event can touch are dropped or re-evaluated.
func (r *Revoker) handle(ctx context.Context, ev acl.Event) {
	defer r.handled.Add(1)
	defer r.noteProcesses(ev) // after the drops started (processes.go)
	r.authz.Invalidate()
	if ev.Kind == acl.EventWorkspaceTransferred {
		r.noteOwner(ev.WorkspaceUID, ev.Workspace, acl.WorkspaceID{Owner: ev.NewOwner, Name: ev.Workspace.Name})
	}
	switch ev.Kind {
	case acl.EventKeyRemoved:
		// The key no longer names anyone: sessions made with it end,
		// whatever their user may still do with another key.
		for _, ls := range r.reg.WithKey(ev.Fingerprint) {
			if ev.User == "" || ls.Info.User == ev.User {
				r.dropAsync(ls, reasonKeyRemoved, "your key was removed", ev.At)
			}
		}
	case acl.EventTokenRevoked:
		for _, ls := range r.reg.WithToken(ev.TokenID) {
			r.dropAsync(ls, reasonTokenRevoked, "your API token was revoked", ev.At)
		}
	case acl.EventCertRevoked:
		r.certRevoked(ev) // credentials.go
	case acl.EventWorkspaceStopped:
		r.workspaceStopped(ctx, ev)
	case acl.EventWorkspaceDeleted:
		live := r.touched(ctx, ev)
		r.recheck(ctx, ev, live)
		if r.cfg.Agents != nil && ev.WorkspaceUID != "" {
			// After the sessions are told why they end: cut first, they
			// would only read that the connection was lost.
			r.afterEnded(live, func() { r.cfg.Agents.Disconnect(ev.WorkspaceUID) })
		}
	case acl.EventAgentTokenRotated:
		r.agentTokenRotated(ctx, ev)
	default:
		r.recheck(ctx, ev, r.touched(ctx, ev))
	}
	r.agentKeysAfter(ctx, ev)
}

// touched returns the sessions whose access ev can have narrowed.
func (r *Revoker) touched(ctx context.Context, ev acl.Event) []*sessions.Session {
	reg := r.reg
	switch ev.Kind {
	case acl.EventGrantRemoved, acl.EventGrantLowered, acl.EventGrantExpired:
		on := r.onWorkspace(ev)
		switch {
		case ev.User != "":
			return filter(on, func(ls *sessions.Session) bool { return ls.Info.User == ev.User })
		case ev.Group != "":
			if members, ok := r.groupMembers(ctx, ev.Group); ok {
				return filter(on, func(ls *sessions.Session) bool { return members[ls.Info.User] })
			}
		}
		return filter(on, r.notOwner)
	case acl.EventGroupMemberRemoved, acl.EventUserSuspended, acl.EventUserDeleted, acl.EventSiteAdminRevoked:
		return reg.OfUser(ev.User)
	case acl.EventGroupDeleted:
		// Its members are gone with it: anyone but an owner may have
		// rested on it.
		return filter(reg.All(), r.notOwner)
	case acl.EventSharingDisabled:
		if ev.Org != "" {
			if wss, ok := r.orgWorkspaces(ctx, ev.Org); ok {
				return filter(reg.All(), func(ls *sessions.Session) bool { return wss[ls.Info.WorkspaceUID] && r.notOwner(ls) })
			}
		}
		return filter(reg.All(), r.notOwner)
	case acl.EventWorkspaceDeleted, acl.EventWorkspaceRenamed, acl.EventAgentTokenRotated,
		acl.EventWorkspaceSettingsChanged, acl.EventWorkspaceTransferred:
		return r.onWorkspace(ev)
	}
	// EventResync, and kinds this gateway does not know yet.
	return reg.All()
}

// onWorkspace returns the sessions to the workspace ev names: by its UID,
// or, for an event written before UIDs existed, by its name.
func (r *Revoker) onWorkspace(ev acl.Event) []*sessions.Session {
	if ev.WorkspaceUID != "" {
		return r.reg.OnWorkspace(ev.WorkspaceUID)
	}
	return filter(r.reg.All(), func(ls *sessions.Session) bool { return ls.Info.Workspace == ev.Workspace })
}

// notOwner: only an owner's access to their own workspace rests on no
// grant, group or sharing setting. A session knows the owner the workspace
// had when it opened; once the workspace was transferred that may be
// someone who now holds a grant like anyone else (transfer.go).
func (r *Revoker) notOwner(ls *sessions.Session) bool {
	return ls.Info.User != ls.Info.Workspace.Owner || r.ownerMoved(ls.Info.WorkspaceUID)
}

func filter(in []*sessions.Session, keep func(*sessions.Session) bool) []*sessions.Session {
	out := in[:0]
	for _, ls := range in {
		if keep(ls) {
			out = append(out, ls)
		}
	}
	return out
}

// groupMembers reads the group's members; false when it cannot.
func (r *Revoker) groupMembers(ctx context.Context, group string) (map[string]bool, bool) {
	ctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	defer cancel()
	g, err := r.store.GetGroup(ctx, group)
	if err != nil {
		return nil, false
	}
	m := make(map[string]bool, len(g.Members))
	for _, u := range g.Members {
		m[u] = true
	}
	return m, true
}

// orgWorkspaces lists the workspaces of org; false when it cannot.
func (r *Revoker) orgWorkspaces(ctx context.Context, org string) (map[string]bool, bool) {
	ctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	defer cancel()
	all, err := r.store.ListWorkspaces(ctx)
	if err != nil {
		return nil, false
	}
	m := map[string]bool{}
	for _, w := range all {
		if w.Org == org {
			m[w.UID] = true
		}
	}
	return m, true
}

// workspaceStopped drops the sessions of a workspace that is stopping,
// stopped or failed, naming who stopped it.
func (r *Revoker) workspaceStopped(ctx context.Context, ev acl.Event) {
	live := r.onWorkspace(ev)
	if len(live) == 0 {
		return
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	w, err := r.store.GetWorkspaceByUID(gctx, ev.WorkspaceUID)
	cancel()
	state := acl.StateStopped // what the event says, when the store cannot tell more
	switch {
	case err == nil:
		state = w.State
	case errors.Is(err, acl.ErrNotFound):
		r.recheck(ctx, ev, live) // deleted since: the re-check says so
		return
	}
	var msg string
	switch state {
	case acl.StateRunning, acl.StateStarting:
		// Started again since: the workspace decides nothing here.
		r.recheck(ctx, ev, live)
		return
	case acl.StateFailed:
		msg = fmt.Sprintf("workspace %s failed", ev.Workspace)
	default:
		msg = fmt.Sprintf("workspace %s was stopped", ev.Workspace)
		if ev.Actor != "" {
			msg += " by " + ev.Actor
		}
	}
	for _, ls := range live {
		r.dropAsync(ls, reasonWorkspaceStopped, msg, ev.At)
	}
}
