package revoke

import (
	"github.com/wsgate/wsgate/acl"
)

// A transfer makes the old owner a grantee (or nobody), but their sessions
// still name them as the owner they were when they opened. The revoker
// remembers the workspaces whose owner moved, from the transfer event and
// from any re-check that finds the workspace under another owner (an event
// lost in a resync), so that notOwner re-checks those sessions on every
// event that can narrow a grantee's access.

// ownerMoved reports whether the workspace with UID uid changed owners
// while this revoker ran.
func (r *Revoker) ownerMoved(uid string) bool {
	if uid == "" {
		return false
	}
	_, ok := r.moved.Load(uid)
	return ok
}

// noteOwner records that the workspace uid, opened as was, is now now.
func (r *Revoker) noteOwner(uid string, was, now acl.WorkspaceID) {
	if uid != "" && now.Owner != "" && was.Owner != now.Owner {
		r.moved.Store(uid, struct{}{})
	}
}
