package redisstore

import (
	"context"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// TransferWorkspace implements acl.Store in one script.
func (s *Store) TransferWorkspace(ctx context.Context, id acl.WorkspaceID, newOwner string, keep acl.Role) error {
	if err := storekit.CheckTransfer(id, newOwner, keep); err != nil {
		return err
	}
	o := s.newOp(id.Owner, id.Name, newOwner, int(keep))
	newID := acl.WorkspaceID{Owner: newOwner, Name: id.Name}
	grant := ""
	if keep != acl.RoleNone {
		grant = mustJSON(toGrantRecord(acl.Grant{Workspace: newID, Kind: acl.SubjectUser, Subject: id.Owner, Role: keep, CreatedAt: o.now}))
	}
	o.args = append(o.args, grant)
	_, err := s.run(ctx, "transfer_workspace", o)
	return err
}

// SetWorkspaceUpdateRequired implements acl.Store.
func (s *Store) SetWorkspaceUpdateRequired(ctx context.Context, id acl.WorkspaceID, required bool) error {
	if err := storekit.LookupID(id); err != nil {
		return err
	}
	return s.write(ctx, "set_workspace_update_required", id.String(), flag(required))
}
