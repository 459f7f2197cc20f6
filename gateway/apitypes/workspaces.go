package apitypes

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

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
	// AgentRefusal is set while the answering gateway last refused the
	// workspace's agent (say, for an old tunnel protocol) and no agent has
	// connected to it since.
	AgentRefusal *AgentRefusal `json:"agent_refusal,omitempty"`
	// AgentTakeover is set when the answering gateway let an agent replace
	// the workspace's tunnel whose agent had gone silent (GET of one
	// workspace only).
	AgentTakeover *AgentRefusal `json:"agent_takeover,omitempty"`
	// Settings are the workspace's own settings, every key (wssettings.go).
	Settings WorkspaceSettings `json:"settings,omitempty"`
	// AgentKey is the state of the agent's pinned key (GET of one
	// workspace only, owner and admins): see AgentKeyEnrolled etc.
	AgentKey string `json:"agent_key,omitempty"`
	// SharingInactive, when set, says why SharedWith gives no access now
	// (sharing is disabled for the deployment or the workspace's org).
	SharingInactive string `json:"sharing_inactive,omitempty"`
	// AllowedActions are what the caller may do on the workspace (the
	// names of acl.Action: "start", "share-use", ...), computed from the
	// role table the API enforces, so that clients offer only those.
	AllowedActions []string `json:"allowed_actions,omitempty"`
	// AgentConnected, when the answering gateway knows it (GET of one
	// workspace), says whether the workspace's agent has a tunnel to it.
	AgentConnected *bool `json:"agent_connected,omitempty"`
	// UpdateRequired: the workspace needs an update (marked by a site
	// admin or said by the provisioner); a `use` grantee may update it, and
	// start updates it first.
	UpdateRequired bool `json:"update_required,omitempty"`
	// ViaSiteAdmin: Role is "owner" only because the caller is a site
	// admin; Grant is the role they hold by grant, if any.
	ViaSiteAdmin bool   `json:"via_site_admin,omitempty"`
	Grant        string `json:"grant,omitempty"`
}

// Values of Workspace.AgentKey.
const (
	AgentKeyEnrolled = "enrolled"           // a key is pinned; the agent signs its upgrades
	AgentKeyAwaiting = "awaiting-enrolment" // no key yet: the agent enrols with the current token
	AgentKeyRevoked  = "revoked"            // revoked on a revoke while the agent was away: it needs a new token
)

// AgentRefusal is why and when a gateway last refused a workspace's
// authenticated agent ("tunnel protocol v1; upgrade the agent to v2", "a
// second agent from ... while the agent from ... is connected"), or let one
// take over.
type AgentRefusal struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
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

// TransferWorkspaceRequest is the body of POST .../transfer.
type TransferWorkspaceRequest struct {
	// To is the new owner.
	To string `json:"to"`
	// KeepAccess is the role the old owner keeps: "admin", "use" or
	// "none" (the default).
	KeepAccess string `json:"keep_access,omitempty"`
}

// UpdateRequiredRequest is the body of PUT .../update-required.
type UpdateRequiredRequest struct {
	Required bool `json:"required"`
}

// DeleteUserTransferParam is the query parameter of DELETE
// /api/v1/users/{user} that names who receives the user's workspaces.
const DeleteUserTransferParam = "transfer_to"

// AllowedActionTransfer is the allowed_actions entry that says the caller
// may transfer the workspace (POST .../transfer): its owner or a site
// admin. It is no acl.Action, so the role table does not list it.
const AllowedActionTransfer = "transfer"
