package storekit

import "github.com/wsgate/wsgate/acl"

// LookupName turns a name that can never exist into a plain not-found, so
// that reads answer the same for invalid and unknown names.
func LookupName(kind, name string) error {
	if acl.ValidateName(kind, name) != nil {
		return acl.NotFound(kind, name)
	}
	return nil
}

// LookupID is LookupName for a workspace id.
func LookupID(id acl.WorkspaceID) error {
	if acl.ValidateName("user", id.Owner) != nil || acl.ValidateName("workspace", id.Name) != nil {
		return acl.NotFound("workspace", id.String())
	}
	return nil
}

// LookupMembership is LookupName for a group and a would-be member.
func LookupMembership(group, user string) error {
	if err := LookupName("group", group); err != nil {
		return err
	}
	return LookupName("user", user)
}

// LookupUID is LookupName for a workspace UID.
func LookupUID(uid string) error {
	if acl.ValidateUID(uid) != nil {
		return acl.NotFound("workspace", uid)
	}
	return nil
}
