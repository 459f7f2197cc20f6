package storekit

import "github.com/wsgate/wsgate/acl"

// CheckTransfer is what a transfer checks before it touches the store, the
// same in every backend.
func CheckTransfer(id acl.WorkspaceID, newOwner string, keep acl.Role) error {
	if err := LookupID(id); err != nil {
		return err
	}
	if err := LookupName("user", newOwner); err != nil {
		return err
	}
	if keep != acl.RoleNone && !keep.Grantable() {
		return acl.Invalid("keep", "invalid role %q for the old owner: expected use, admin or none", keep)
	}
	if newOwner == id.Owner {
		return acl.Invalid("owner", "user %q already owns %s", newOwner, id)
	}
	return nil
}

// TransferConflict is the error for a new owner who already has a
// workspace of the name.
func TransferConflict(newID acl.WorkspaceID) error {
	return &acl.ConflictError{Kind: "workspace", Name: newID.String(),
		Detail: "user " + newID.Owner + " already has a workspace named " + newID.Name + "; rename one first"}
}
