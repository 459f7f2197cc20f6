package acl

import "context"

// WorkspaceTransfers is the part of Store that hands a workspace to a new
// owner and records that it needs an update.
type WorkspaceTransfers interface {
	// TransferWorkspace makes newOwner the owner of workspace id, in one
	// write: the UID stays (agent tunnels, agent keys and sessions are keyed
	// by it), the name moves to newOwner's namespace, the old owner keeps a
	// grant at keep (RoleUse or RoleAdmin; RoleNone: no grant), and a grant
	// newOwner held in their own name is dropped. newOwner must exist (a
	// *NotFoundError) and not be suspended (*InvalidError); newOwner
	// already owning id (*InvalidError) or a workspace of the same name
	// (*ConflictError) changes nothing. Emits EventWorkspaceTransferred.
	TransferWorkspace(ctx context.Context, id WorkspaceID, newOwner string, keep Role) error
	// SetWorkspaceUpdateRequired sets or clears Workspace.UpdateRequired.
	// It narrows nobody's access, so it emits no event.
	SetWorkspaceUpdateRequired(ctx context.Context, id WorkspaceID, required bool) error
}
