package revoke

import (
	"context"
	"slices"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
)

// Rotation on revoke. Every user who had a session to a workspace since
// its agent's key was pinned could have copied the key (sessions run as
// the agent's OS user). When one of them loses access, the key is
// replaced once their sessions have ended: by the connected agent over
// its tunnel, or, when the agent is away, by revoking it (AgentKeys).

// AgentKeys is what rotation on revoke reads and does.
type AgentKeys interface {
	GetAgentKey(ctx context.Context, uid string) (acl.AgentKey, error)
	ListAgentKeys(ctx context.Context) ([]acl.AgentKey, error)
	// Replace has ws's agent replace the key old, or revokes old; lost
	// are the users whose lost access is why. It may block for a while.
	Replace(ctx context.Context, ws acl.Workspace, old string, lost []string)
}

// enrolledSince reports whether the workspace's agent has a pinned key
// whose tunnel is live here (an agent given a new token that came back).
func (r *Revoker) enrolledSince(ctx context.Context, uid string) bool {
	if r.cfg.AgentKeys == nil {
		return false
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	k, err := r.cfg.AgentKeys.GetAgentKey(gctx, uid)
	cancel()
	return err == nil && k.PublicKey != "" && r.cfg.Agents.ConnectedWith(uid, k.PublicKey)
}

// agentKeysAfter starts the key replacements ev calls for, without
// holding up the event loop or the drops.
func (r *Revoker) agentKeysAfter(ctx context.Context, ev acl.Event) {
	if r.cfg.AgentKeys == nil {
		return
	}
	byUser := false
	switch ev.Kind {
	case acl.EventGrantRemoved, acl.EventGrantLowered, acl.EventGrantExpired:
	case acl.EventGroupMemberRemoved, acl.EventUserSuspended, acl.EventUserDeleted, acl.EventSiteAdminRevoked:
		byUser = true
	case acl.EventGroupDeleted, acl.EventSharingDisabled, acl.EventResync:
	default:
		return
	}
	r.drops.Add(1)
	go func() {
		defer r.drops.Done()
		r.reg.AwaitTeardown() // after the drops: users are told first
		// Only the users the event names can have lost access by it: one
		// re-check, not one per exposed user, next to the drops.
		var only map[string]bool
		switch {
		case ev.User != "":
			only = map[string]bool{ev.User: true}
		case ev.Group != "" && ev.Kind != acl.EventGroupDeleted:
			if m, ok := r.groupMembers(ctx, ev.Group); ok {
				only = m
			}
		}
		for _, k := range r.exposedKeys(ctx, ev) {
			if byUser && !slices.Contains(k.Exposed, ev.User) {
				continue
			}
			r.replaceIfLost(ctx, k, only)
		}
	}()
}

// exposedKeys are the pinned keys ev may concern with anyone exposed.
func (r *Revoker) exposedKeys(ctx context.Context, ev acl.Event) []acl.AgentKey {
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	defer cancel()
	var keys []acl.AgentKey
	switch ev.Kind {
	case acl.EventGrantRemoved, acl.EventGrantLowered, acl.EventGrantExpired:
		if ev.WorkspaceUID == "" {
			break
		}
		k, err := r.cfg.AgentKeys.GetAgentKey(gctx, ev.WorkspaceUID)
		if err != nil {
			return nil
		}
		return filterKeys([]acl.AgentKey{k})
	}
	keys, err := r.cfg.AgentKeys.ListAgentKeys(gctx)
	if err != nil {
		r.log.Warn("cannot list agent keys; no rotation for this event", "event", string(ev.Kind), "err", err)
		return nil
	}
	return filterKeys(keys)
}

func filterKeys(keys []acl.AgentKey) []acl.AgentKey {
	out := keys[:0]
	for _, k := range keys {
		if k.PublicKey != "" && len(k.Exposed) > 0 {
			out = append(out, k)
		}
	}
	return out
}

// replaceIfLost re-checks everyone exposed to k (of only, when set) and, when any of them
// may no longer connect, replaces k once their sessions here ended.
func (r *Revoker) replaceIfLost(ctx context.Context, k acl.AgentKey, only map[string]bool) {
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	ws, err := r.store.GetWorkspaceByUID(gctx, k.WorkspaceUID)
	cancel()
	if err != nil {
		return // deleted: nothing to protect; or the store is away
	}
	var users, lost []string
	for _, u := range k.Exposed {
		if u != ws.Owner && (only == nil || only[u]) {
			users = append(users, u)
		}
	}
	for i, c := range r.checkAll(ctx, ws.UID, ws.ID(), users) {
		if c.err == nil && !c.d.Allow {
			lost = append(lost, users[i])
		}
	}
	if len(lost) == 0 {
		return
	}
	live := filter(r.reg.OnWorkspace(ws.UID), func(ls *sessions.Session) bool { return slices.Contains(lost, ls.Info.User) })
	r.afterEnded(live, func() { r.cfg.AgentKeys.Replace(ctx, ws, k.PublicKey, lost) })
}
