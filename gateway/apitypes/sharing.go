package apitypes

import "time"

// ACL is the body of GET /api/v1/workspaces/{owner}/{name}/acl.
type ACL struct {
	Users  []ACLUser  `json:"users"`
	Groups []ACLGroup `json:"groups"`
	// Inactive, when set, says why these grants give no access now
	// (sharing is disabled); they can still be removed.
	Inactive string `json:"inactive,omitempty"`
}

// ACLUser is a user's grant.
type ACLUser = Share

// ACLGroup is a group's grant with the group's members (empty for callers
// who may not share the workspace: member lists are for those who decide
// what the group may reach).
type ACLGroup struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Members   []string  `json:"members"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// ACLUpdate is the body of PATCH .../acl: a merge where "" removes a grant.
type ACLUpdate struct {
	Users  map[string]string `json:"users,omitempty"`
	Groups map[string]string `json:"groups,omitempty"`
	// ExpiresAt (RFC 3339), when set, applies to every grant this request
	// adds or changes.
	ExpiresAt string `json:"expires_at,omitempty"`
}
