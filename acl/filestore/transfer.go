package filestore

import (
	"context"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// TransferWorkspace implements acl.Store.
func (s *Store) TransferWorkspace(ctx context.Context, id acl.WorkspaceID, newOwner string, keep acl.Role) error {
	if err := storekit.CheckTransfer(id, newOwner, keep); err != nil {
		return err
	}
	newID := acl.WorkspaceID{Owner: newOwner, Name: id.Name}
	return s.onWorkspace(ctx, id, func(w *wtx, r *storekit.WorkspaceRecord) error {
		var u acl.User
		if err := getExisting(w.Bucket(bUsers), "user", newOwner, &u); err != nil {
			return err
		}
		if u.Suspended {
			return acl.Invalid("owner", "user %q is suspended", newOwner)
		}
		wsb := w.Bucket(bWorkspaces)
		if wsb.Get([]byte(newID.String())) != nil {
			return storekit.TransferConflict(newID)
		}
		grants, err := deleteWorkspaceGrants(w, id.String())
		if err != nil {
			return err
		}
		for _, g := range grants {
			if g.Kind == acl.SubjectUser && g.Subject == newOwner {
				continue // they own it now
			}
			g.Workspace = newID
			if err := putGrant(w, g); err != nil {
				return err
			}
		}
		if keep != acl.RoleNone {
			g := acl.Grant{Workspace: newID, Kind: acl.SubjectUser, Subject: id.Owner, Role: keep, CreatedAt: w.now}
			if err := putGrant(w, g); err != nil {
				return err
			}
		}
		if err := moveWorkspaceKeys(w, wsb, r, id, newID); err != nil {
			return err
		}
		r.Owner, r.UpdatedAt = newOwner, w.now
		w.emit(acl.Event{Kind: acl.EventWorkspaceTransferred, Workspace: id, WorkspaceUID: r.UID,
			User: id.Owner, NewOwner: newOwner, Role: keep})
		return putJSON(wsb, newID.String(), *r)
	})
}

// SetWorkspaceUpdateRequired implements acl.Store.
func (s *Store) SetWorkspaceUpdateRequired(ctx context.Context, id acl.WorkspaceID, required bool) error {
	return s.updateWorkspace(ctx, id, func(_ *wtx, r *storekit.WorkspaceRecord) error {
		r.UpdateRequired = required
		return nil
	})
}
