package revoke

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
)

// afterEnded runs f once every session in live has ended, or DropWait has
// passed, without holding up the caller.
func (r *Revoker) afterEnded(live []*sessions.Session, f func()) {
	r.drops.Add(1)
	go func() {
		defer r.drops.Done()
		t := time.NewTimer(DropWait)
		defer t.Stop()
		for _, ls := range live {
			select {
			case <-ls.Done():
			case <-t.C:
				f()
				return
			}
		}
		f()
	}()
}

// agentTokenRotated ends the workspace's sessions, saying why, and then
// closes its tunnel, unless its agent already came back with the new token:
// everyone on the old agent is told, not just cut off.
func (r *Revoker) agentTokenRotated(ctx context.Context, ev acl.Event) {
	if r.cfg.Agents == nil || ev.WorkspaceUID == "" {
		return
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	w, err := r.store.GetWorkspaceByUID(gctx, ev.WorkspaceUID)
	cancel()
	switch {
	case errors.Is(err, acl.ErrNotFound):
		// Deleted since: its own event drops the sessions.
		r.cfg.Agents.Disconnect(ev.WorkspaceUID)
		return
	case err != nil:
		// The tunnel stays; the old token no longer opens a new one.
		r.log.Warn("cannot read the rotated agent token; the agent's tunnel stays", "workspace", ev.Workspace.String(), "err", err)
		return
	case r.cfg.Agents.ConnectedWith(ev.WorkspaceUID, w.AgentTokenHash):
		return
	case r.enrolledSince(ctx, ev.WorkspaceUID):
		// The agent given the new token enrolled already (a new token
		// unpins the old key, so a pinned key is the new agent's).
		return
	}
	msg := fmt.Sprintf("the agent of %s was given a new token", w.ID())
	if ev.Actor != "" {
		msg += " by " + ev.Actor
	}
	msg += "; reconnect once the agent is back"
	live := r.onWorkspace(ev)
	for _, ls := range live {
		r.dropAsync(ls, reasonAgentRotated, msg, ev.At)
	}
	r.afterEnded(live, func() {
		if !r.enrolledSince(ctx, ev.WorkspaceUID) {
			r.cfg.Agents.DisconnectUnless(ev.WorkspaceUID, w.AgentTokenHash)
		}
	})
}
