package storekit

import (
	"cmp"
	"slices"
	"sort"

	"github.com/wsgate/wsgate/acl"
)

// Every backend reports listings in these orders, whatever order its
// storage yields them in.

// SortKeys orders keys by when they were added, then by fingerprint.
func SortKeys(keys []acl.PublicKey) {
	sort.SliceStable(keys, func(i, j int) bool {
		if !keys[i].AddedAt.Equal(keys[j].AddedAt) {
			return keys[i].AddedAt.Before(keys[j].AddedAt)
		}
		return keys[i].Fingerprint < keys[j].Fingerprint
	})
}

// CompareIDs orders workspace ids by owner, then name; not by their text,
// in which "a-b/…" would sort before "a/…".
func CompareIDs(a, b acl.WorkspaceID) int {
	return cmp.Or(cmp.Compare(a.Owner, b.Owner), cmp.Compare(a.Name, b.Name))
}

// SortWorkspaces orders workspaces by id.
func SortWorkspaces(ws []acl.Workspace) {
	slices.SortFunc(ws, func(a, b acl.Workspace) int { return CompareIDs(a.ID(), b.ID()) })
}

// SortShared orders shared workspaces by id.
func SortShared(sw []acl.SharedWorkspace) {
	slices.SortFunc(sw, func(a, b acl.SharedWorkspace) int { return CompareIDs(a.Workspace.ID(), b.Workspace.ID()) })
}

// SortGrants orders grants by workspace, then users before groups, each by
// name.
func SortGrants(gs []acl.Grant) {
	slices.SortFunc(gs, func(a, b acl.Grant) int {
		return cmp.Or(CompareIDs(a.Workspace, b.Workspace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Subject, b.Subject))
	})
}

// SortTokens orders tokens oldest first, then by id.
func SortTokens(ts []acl.Token) {
	slices.SortFunc(ts, func(a, b acl.Token) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
}
