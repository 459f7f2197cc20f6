package httpapi

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// Sharing setting values, for orgs and the deployment.
const (
	SharingEnabled  = "enabled"
	SharingDisabled = "disabled"
)

// Error is the body of every error response.
type Error struct {
	Message     string       `json:"message"`
	Validations []Validation `json:"validations,omitempty"`
}

// Validation names one bad input field.
type Validation struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Users.

// User is a user as the API shows it.
type User = acl.User

// PublicKey is one SSH key of a user.
type PublicKey = acl.PublicKey

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	Org         string `json:"org,omitempty"`
	SiteAdmin   bool   `json:"site_admin,omitempty"`
	// Keys are SSH public keys in authorized_keys format.
	Keys []string `json:"keys,omitempty"`
}

// UpdateUserRequest is the body of PATCH /api/v1/users/{name}.
type UpdateUserRequest struct {
	SiteAdmin *bool `json:"site_admin,omitempty"`
}

// AddKeyRequest is the body of POST /api/v1/users/{name}/keys.
type AddKeyRequest struct {
	AuthorizedKey string `json:"authorized_key"`
}

// Groups.

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

// Orgs and settings.

// Org is an organization and its sharing setting.
type Org struct {
	Name      string    `json:"name"`
	Sharing   string    `json:"sharing"` // SharingEnabled or SharingDisabled
	CreatedAt time.Time `json:"created_at"`
}

// CreateOrgRequest is the body of POST /api/v1/orgs.
type CreateOrgRequest struct {
	Name    string `json:"name"`
	Sharing string `json:"sharing,omitempty"` // default enabled
}

// SharingSetting is the body of PATCH /api/v1/orgs/{name}/settings and
// PATCH /api/v1/settings.
type SharingSetting struct {
	Sharing string `json:"sharing"`
}

// Settings are the deployment-wide settings.
type Settings struct {
	// Sharing is the effective deployment setting.
	Sharing string `json:"sharing"`
	// DisabledByServer is true when the server runs with --disable-sharing,
	// which overrides the stored setting.
	DisabledByServer bool `json:"disabled_by_server"`
}

// Deployment tells clients how to reach the gateway's SSH front door.
type Deployment struct {
	// SSHAddr is host:port of the SSH front door; the host may be empty,
	// meaning the host of the API URL.
	SSHAddr        string `json:"ssh_addr"`
	HostnameSuffix string `json:"hostname_suffix"`
}

// Workspaces.

// Workspace is a workspace as one caller sees it.
type Workspace struct {
	Owner     string             `json:"owner"`
	Name      string             `json:"name"`
	Org       string             `json:"org,omitempty"`
	State     acl.WorkspaceState `json:"state"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
	// Role is the caller's effective role: owner, admin or use.
	Role string `json:"role"`
	// SharedWith lists the workspace's live grants.
	SharedWith SharedWith `json:"shared_with"`
}

// ID returns the workspace's owner/name.
func (w Workspace) ID() acl.WorkspaceID { return acl.WorkspaceID{Owner: w.Owner, Name: w.Name} }

// SharedWith lists who a workspace is shared with.
type SharedWith struct {
	Users  []Share `json:"users"`
	Groups []Share `json:"groups"`
}

// Share is one grant in a listing.
type Share struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// CreateWorkspaceRequest is the body of POST /api/v1/workspaces.
type CreateWorkspaceRequest struct {
	Name string `json:"name"`
	// Owner defaults to the caller; only site admins name someone else.
	Owner string `json:"owner,omitempty"`
	// Org defaults to the owner's org.
	Org string `json:"org,omitempty"`
}

// CreateWorkspaceResponse carries the agent token, shown only here.
type CreateWorkspaceResponse struct {
	Workspace  Workspace `json:"workspace"`
	AgentToken string    `json:"agent_token"`
}

// AgentTokenResponse is the answer of POST .../agent-token (rotation).
type AgentTokenResponse struct {
	AgentToken string `json:"agent_token"`
}

// UpdateWorkspaceRequest is the body of PATCH /api/v1/workspaces/{owner}/{name}.
type UpdateWorkspaceRequest struct {
	Name string `json:"name"`
}

// Sharing.

// ACL is the body of GET /api/v1/workspaces/{owner}/{name}/acl.
type ACL struct {
	Users  []ACLUser  `json:"users"`
	Groups []ACLGroup `json:"groups"`
}

// ACLUser is a user's grant.
type ACLUser = Share

// ACLGroup is a group's grant with the group's members.
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

// Tokens.

// Token is an API token's metadata; the secret is never shown again.
type Token = acl.Token

// CreateTokenRequest is the body of POST /api/v1/users/{name}/tokens.
type CreateTokenRequest struct {
	Name string `json:"name"`
	// ExpiresAt (RFC 3339) is optional; no expiry when empty.
	ExpiresAt string `json:"expires_at,omitempty"`
}

// CreateTokenResponse carries the secret, shown only here.
type CreateTokenResponse struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}
