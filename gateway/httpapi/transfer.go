package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// parseKeepAccess reads the role an old owner keeps; "" is none.
func parseKeepAccess(s string) (acl.Role, error) {
	switch s {
	case "", "none":
		return acl.RoleNone, nil
	case "use":
		return acl.RoleUse, nil
	case "admin":
		return acl.RoleAdmin, nil
	}
	return acl.RoleNone, invalidField("keep_access", "invalid keep_access %q: expected admin, use or none", s)
}

// checkNewOwner answers 400 when the new owner does not exist or is
// suspended, so that the caller is told which.
func (a *api) checkNewOwner(ctx context.Context, name string) error {
	u, err := a.store.GetUser(ctx, name)
	switch {
	case errors.Is(err, acl.ErrNotFound):
		return invalidField("to", "user %q not found", name)
	case err != nil:
		return err
	case u.Suspended:
		return invalidField("to", "user %q is suspended", name)
	}
	return nil
}

// transferWorkspace hands the workspace to another user: only its owner
// or a site admin may.
func (a *api) transferWorkspace(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	var req apitypes.TransferWorkspaceRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	keep, err := parseKeepAccess(req.KeepAccess)
	if err != nil {
		return err
	}
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	if !mayTransfer(c.role) {
		return errorf(http.StatusForbidden, "only the owner of %s or a site admin may transfer it", c.ws.ID())
	}
	if req.To == "" {
		return invalidField("to", "name the new owner")
	}
	if err := a.checkNewOwner(r.Context(), req.To); err != nil {
		return err
	}
	id := c.ws.ID()
	unlock := a.locks.lock(id)
	defer unlock()
	if err := a.store.TransferWorkspace(r.Context(), id, req.To, keep); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "workspace transferred", "workspace", id.String(), "to", req.To, "keep_access", keep.String(), "by", caller.Name)
	c.ws.Owner = req.To
	// The caller's role may have changed with the owner.
	nc, err := a.loadAccessID(r, caller, c.ws.ID(), acl.ActionView)
	if err != nil {
		// The old owner who kept nothing no longer sees it.
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return a.writeWorkspace(w, r, http.StatusOK, nc)
}

// setUpdateRequired marks or clears a workspace as needing an update (site
// admins: it lets `use` grantees run the update).
func (a *api) setUpdateRequired(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	if err := requireSiteAdmin(caller, "mark workspaces as needing an update"); err != nil {
		return err
	}
	var req apitypes.UpdateRequiredRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	if err := a.store.SetWorkspaceUpdateRequired(r.Context(), c.ws.ID(), req.Required); err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "workspace update required", "workspace", c.ws.ID().String(), "required", req.Required, "by", caller.Name)
	return a.writeWorkspace(w, r, http.StatusOK, c)
}

// transferAll hands every workspace of user to to, the old owner keeping
// nothing (they are about to be deleted). Every name is checked first, so
// that a conflict changes nothing.
func (a *api) transferAll(ctx context.Context, user, to string) error {
	if to == user {
		return invalidField(apitypes.DeleteUserTransferParam, "cannot transfer %s's workspaces to %s", user, to)
	}
	if err := a.checkNewOwner(ctx, to); err != nil {
		return err
	}
	owned, err := a.store.WorkspacesOwnedBy(ctx, user)
	if err != nil {
		return err
	}
	for _, ws := range owned {
		_, err := a.store.GetWorkspace(ctx, acl.WorkspaceID{Owner: to, Name: ws.Name})
		if err == nil {
			return errorf(http.StatusConflict, "user %s already has a workspace named %s; rename one first (nothing was changed)", to, ws.Name)
		}
		if !errors.Is(err, acl.ErrNotFound) {
			return err
		}
	}
	for _, ws := range owned {
		unlock := a.locks.lock(ws.ID())
		err := a.store.TransferWorkspace(ctx, ws.ID(), to, acl.RoleNone)
		unlock()
		if err != nil {
			return fmt.Errorf("transfer %s to %s: %w", ws.ID(), to, err)
		}
	}
	return nil
}

// callerView adds to v what depends on who asks: whether the owner role
// comes from being a site admin, and then the caller's own grant.
func callerView(v *apitypes.Workspace, ws acl.Workspace, caller string, role acl.Role, grants []acl.Grant) {
	v.UpdateRequired = ws.UpdateRequired
	if role != acl.RoleOwner || ws.Owner == caller {
		return
	}
	v.ViaSiteAdmin = true
	for _, g := range grants {
		if g.Kind == acl.SubjectUser && g.Subject == caller {
			v.Grant = g.Role.String()
		}
	}
}

// clearUpdateRequired clears the mark once an update succeeded.
func (a *api) clearUpdateRequired(r *http.Request, ws acl.Workspace) error {
	if !ws.UpdateRequired {
		return nil
	}
	ctx := context.WithoutCancel(r.Context()) // the update ran; record it
	if err := a.store.SetWorkspaceUpdateRequired(ctx, ws.ID(), false); err != nil {
		return fmt.Errorf("clear update-required of %s: %w", ws.ID(), err)
	}
	return nil
}
