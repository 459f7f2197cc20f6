package httpapi

import (
	"net/http"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// getWorkspaceSettings shows the settings to whoever may view the workspace.
func (a *api) getWorkspaceSettings(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	ws, err := a.store.GetWorkspace(r.Context(), c.ws.ID())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apitypes.WorkspaceSettings(ws.Settings.Map()))
	return nil
}

// setWorkspaceSettings changes settings; it needs what update at any time
// needs (owner, admin, site admin). merge (PATCH) keeps the keys the body
// leaves out; PUT resets them to their defaults. A bad key or value
// changes nothing.
func (a *api) setWorkspaceSettings(merge bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, caller acl.User) error {
		var req apitypes.WorkspaceSettings
		if err := decode(w, r, &req); err != nil {
			return err
		}
		c, ws, unlock, err := a.loadLocked(r, caller, acl.ActionUpdate)
		if err != nil {
			return err
		}
		defer unlock()
		base := acl.WorkspaceSettings{}
		if merge {
			base = ws.Settings
		}
		next, err := base.Apply(req)
		if err != nil {
			return err
		}
		if err := a.store.SetWorkspaceSettings(r.Context(), c.ws.ID(), next); err != nil {
			return err
		}
		a.log.InfoContext(r.Context(), "workspace settings changed", "workspace", c.ws.ID().String(),
			"settings", next.String(), "by", caller.Name)
		writeJSON(w, http.StatusOK, apitypes.WorkspaceSettings(next.Map()))
		return nil
	}
}
