package apitypes

import "github.com/wsgate/wsgate/acl"

// Group is a group as the API shows it.
type Group = acl.Group

// CreateGroupRequest is the body of POST /api/v1/groups.
type CreateGroupRequest struct {
	Name    string   `json:"name"`
	Org     string   `json:"org,omitempty"`
	Members []string `json:"members,omitempty"`
}

// AddMemberRequest is the body of POST /api/v1/groups/{name}/members.
type AddMemberRequest struct {
	User string `json:"user"`
}
