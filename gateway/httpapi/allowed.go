package httpapi

import "github.com/wsgate/wsgate/acl"

// allowedActions lists what caller may do on workspace id, asking
// acl.Authorize of every action: the same role table the handlers enforce,
// so that clients (the web page) need no copy of it.
func allowedActions(snap *acl.Snapshot, caller string, id acl.WorkspaceID) []string {
	out := []string{}
	for _, action := range acl.Actions() {
		if acl.Authorize(snap, caller, action, id).Allow {
			out = append(out, action.String())
		}
	}
	return out
}
