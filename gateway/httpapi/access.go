package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/wsgate/wsgate/acl"
)

// access is one caller's standing on one workspace, decided from a snapshot
// loaded for this request.
type access struct {
	ws     acl.Workspace
	caller string
	snap   *acl.Snapshot
	role   acl.Role
}

// allows reports whether the caller may do action.
func (c *access) allows(action acl.Action) bool {
	return acl.Authorize(c.snap, c.caller, action, c.ws.ID()).Allow
}

// require answers 403 unless the caller may do action.
func (c *access) require(action acl.Action) error {
	if c.allows(action) {
		return nil
	}
	return forbidden(c.ws.ID(), action, c.role)
}

var actionVerbs = map[acl.Action]string{
	acl.ActionConnect:        "connect to",
	acl.ActionStart:          "start",
	acl.ActionStop:           "stop",
	acl.ActionView:           "view",
	acl.ActionUpdateRequired: "update",
	acl.ActionUpdate:         "update",
	acl.ActionRename:         "rename",
	acl.ActionShareUse:       "share",
	acl.ActionShareAdmin:     "grant or remove the admin role on",
	acl.ActionDelete:         "delete",
}

func forbidden(id acl.WorkspaceID, action acl.Action, role acl.Role) error {
	return errorf(http.StatusForbidden, "you may not %s workspace %s: that needs the %s role, and yours is %s",
		actionVerbs[action], id, acl.MinRole(action), role)
}

// workspaceNotFound is the answer for a workspace that does not exist and
// for one the caller may not see alike.
func workspaceNotFound(id acl.WorkspaceID) error {
	return acl.NotFound("workspace", id.String())
}

// workspaceParam reads {owner}/{name} from the path; owner "me" is the
// caller. A malformed name cannot exist, so it is a 404 like any other.
func workspaceParam(r *http.Request, caller acl.User) (acl.WorkspaceID, error) {
	id := acl.WorkspaceID{Owner: userParam(r, caller, "owner"), Name: r.PathValue("name")}
	if acl.ValidateName("user", id.Owner) != nil || acl.ValidateName("workspace", id.Name) != nil {
		return id, workspaceNotFound(id)
	}
	return id, nil
}

// loadAccess loads the caller's standing on the workspace in the path and
// checks action: 404 when the caller may not see the workspace (or it does
// not exist), 403 when they see it but may not do action.
func (a *api) loadAccess(r *http.Request, caller acl.User, action acl.Action) (*access, error) {
	id, err := workspaceParam(r, caller)
	if err != nil {
		return nil, err
	}
	return a.loadAccessID(r, caller, id, action)
}

// loadLocked is loadAccess, then the workspace's lock and a fresh read of
// the workspace under it, for changes that depend on its state. The caller
// releases the lock with unlock.
func (a *api) loadLocked(r *http.Request, caller acl.User, action acl.Action) (c *access, ws acl.Workspace, unlock func(), err error) {
	c, err = a.loadAccess(r, caller, action)
	if err != nil {
		return nil, acl.Workspace{}, nil, err
	}
	unlock = a.locks.lock(c.ws.ID())
	ws, err = a.store.GetWorkspace(r.Context(), c.ws.ID())
	if err != nil {
		unlock()
		return nil, acl.Workspace{}, nil, err
	}
	return c, ws, unlock, nil
}

func (a *api) loadAccessID(r *http.Request, caller acl.User, id acl.WorkspaceID, action acl.Action) (*access, error) {
	ctx := r.Context()
	snap, err := acl.LoadSnapshot(ctx, a.store, caller.Name, id, a.now(), a.cfg.DisableSharing)
	if err != nil {
		return nil, fmt.Errorf("load snapshot for %s: %w", id, err)
	}
	d := acl.Authorize(snap, caller.Name, action, id)
	if !d.Visible() {
		return nil, workspaceNotFound(id)
	}
	ws, err := a.store.GetWorkspace(ctx, id)
	if errors.Is(err, acl.ErrNotFound) {
		return nil, workspaceNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	c := &access{ws: ws, caller: caller.Name, snap: snap, role: d.Role}
	if !d.Allow {
		return nil, forbidden(id, action, d.Role)
	}
	return c, nil
}
