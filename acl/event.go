package acl

import "time"

// EventKind says what changed. Every kind names a write that can narrow
// someone's access; widening writes need no event because caches are only
// ever too generous when stale, never too strict.
type EventKind string

const (
	EventGrantRemoved       EventKind = "grant_removed"        // Workspace, WorkspaceUID, User or Group
	EventGrantLowered       EventKind = "grant_lowered"        // Workspace, WorkspaceUID, User or Group, Role (new)
	EventGrantExpired       EventKind = "grant_expired"        // Workspace, WorkspaceUID, User or Group
	EventGroupMemberRemoved EventKind = "group_member_removed" // Group, User
	EventGroupDeleted       EventKind = "group_deleted"        // Group
	EventUserSuspended      EventKind = "user_suspended"       // User
	EventUserDeleted        EventKind = "user_deleted"         // User
	EventSiteAdminRevoked   EventKind = "site_admin_revoked"   // User
	EventKeyRemoved         EventKind = "key_removed"          // User, Fingerprint
	EventTokenRevoked       EventKind = "token_revoked"        // User, TokenID
	EventWorkspaceDeleted   EventKind = "workspace_deleted"    // Workspace, WorkspaceUID
	EventWorkspaceStopped   EventKind = "workspace_stopped"    // Workspace, WorkspaceUID
	EventWorkspaceRenamed   EventKind = "workspace_renamed"    // Workspace (old ID), WorkspaceUID, NewName
	EventAgentTokenRotated  EventKind = "agent_token_rotated"  // Workspace, WorkspaceUID
	EventSharingDisabled    EventKind = "sharing_disabled"     // Org, or none for the deployment
	// EventWorkspaceSettingsChanged: a workspace setting was narrowed
	// (agent forwarding off, ssh -R back to loopback).
	EventWorkspaceSettingsChanged EventKind = "workspace_settings_changed" // Workspace, WorkspaceUID
	// EventCertRevoked: an SSH user certificate was revoked, by serial or
	// by the certified key's fingerprint.
	EventCertRevoked EventKind = "cert_revoked" // CertSerial or Fingerprint
	// EventWorkspaceTransferred: the workspace has a new owner; the old
	// owner (User) keeps Role, or nothing when Role is empty.
	EventWorkspaceTransferred EventKind = "workspace_transferred" // Workspace (old ID), WorkspaceUID, User, NewOwner, Role
	// EventResync means events may have been lost: re-check everything.
	EventResync EventKind = "resync"
)

// Event describes one narrowing write. Fields not relevant to Kind are empty.
type Event struct {
	Kind      EventKind   `json:"kind"`
	Workspace WorkspaceID `json:"workspace,omitzero"`
	// WorkspaceUID is the UID of the workspace the event names, so that a
	// consumer can tell it from a later workspace of the same name. It is
	// empty only for a workspace written before UIDs existed and not yet
	// migrated.
	WorkspaceUID string `json:"workspace_uid,omitempty"`
	// NewName is the workspace's name after an EventWorkspaceRenamed.
	NewName     string `json:"new_name,omitempty"`
	User        string `json:"user,omitempty"`
	Group       string `json:"group,omitempty"`
	Org         string `json:"org,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	TokenID     string `json:"token_id,omitempty"`
	Role        Role   `json:"role,omitempty"`
	// Actor is the user whose request made the write (see WithActor);
	// empty for writes made by the system, such as expiry.
	Actor string `json:"actor,omitempty"`
	// At is when the write happened (the store's clock), so that consumers
	// can measure write-to-effect latency.
	At time.Time `json:"at"`
	// CertSerial is the revoked certificate serial of an EventCertRevoked
	// (a string in JSON: serials use all 64 bits).
	CertSerial uint64 `json:"cert_serial,omitempty,string"`
	// NewOwner is the owner after an EventWorkspaceTransferred (the
	// workspace's name is unchanged, under NewOwner).
	NewOwner string `json:"new_owner,omitempty"`
}
