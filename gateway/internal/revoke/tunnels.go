package revoke

import (
	"context"
	"errors"
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

// agentTokenRotated closes the workspace's tunnel unless its agent already
// came back with the new token.
func (r *Revoker) agentTokenRotated(ctx context.Context, ev acl.Event) {
	if r.cfg.Agents == nil || ev.WorkspaceUID == "" {
		return
	}
	gctx, cancel := context.WithTimeout(ctx, r.authz.StoreTimeout())
	w, err := r.store.GetWorkspaceByUID(gctx, ev.WorkspaceUID)
	cancel()
	switch {
	case err == nil:
		r.cfg.Agents.DisconnectUnless(ev.WorkspaceUID, w.AgentTokenHash)
	case errors.Is(err, acl.ErrNotFound):
		r.cfg.Agents.Disconnect(ev.WorkspaceUID)
	default:
		// The tunnel stays; the old token no longer opens a new one.
		r.log.Warn("cannot read the rotated agent token; the agent's tunnel stays", "workspace", ev.Workspace.String(), "err", err)
	}
}
