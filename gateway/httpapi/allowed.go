package httpapi

import (
	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// allowedActions lists what caller may do on workspace id, asking
// acl.Authorize of every action: the same role table the handlers enforce,
// so that clients (the web page) need no copy of it. Transfer is no
// acl.Action; it is listed when mayTransfer, the rule its handler applies,
// allows it.
func allowedActions(snap *acl.Snapshot, caller string, id acl.WorkspaceID) []string {
	out := []string{}
	for _, action := range acl.Actions() {
		if acl.Authorize(snap, caller, action, id).Allow {
			out = append(out, action.String())
		}
	}
	if mayTransfer(acl.Authorize(snap, caller, acl.ActionView, id).Role) {
		out = append(out, apitypes.AllowedActionTransfer)
	}
	return out
}

// mayTransfer: only the owner, or a site admin (who holds the owner role
// on every workspace), may hand a workspace to another user.
func mayTransfer(role acl.Role) bool { return role == acl.RoleOwner }
