package acl

import (
	"context"
	"time"
)

// Store holds wsgate's access data. Every backend (filestore, redisstore)
// passes the same conformance suite in acl/acltest.
//
// Rules every backend keeps:
//   - Missing things are a *NotFoundError, duplicates a *ConflictError, bad
//     input an *InvalidError; a write that fails changes nothing.
//   - Each write is atomic; concurrent writers lose no update.
//   - Every write that can narrow someone's access publishes an Event (see
//     event.go) stamped with the write's time, after the write is durable.
//   - Names are checked with ValidateName; grants only hold RoleUse or
//     RoleAdmin; a workspace owner never holds a grant on their workspace.
type Store interface {
	// Users. CreateUser ignores u.Groups and u.Keys' AddedAt is set when zero.
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, name string) (User, error)
	// GetUsers reads the users of names that exist, as GetUser does, in
	// one read: a name with no user (or one no user can have) is left out.
	GetUsers(ctx context.Context, names []string) (map[string]User, error)
	ListUsers(ctx context.Context) ([]User, error)
	// SetUserSuspended emits EventUserSuspended when suspending.
	SetUserSuspended(ctx context.Context, name string, suspended bool) error
	// SetUserSiteAdmin emits EventSiteAdminRevoked when revoking.
	SetUserSiteAdmin(ctx context.Context, name string, siteAdmin bool) error
	// DeleteUser removes the user with their keys, tokens, group memberships
	// and grants, and emits EventUserDeleted. A user who still owns
	// workspaces cannot be deleted (*ConflictError).
	DeleteUser(ctx context.Context, name string) error
	// AddUserKey adds a key; a fingerprint already held by any user is a
	// *ConflictError.
	AddUserKey(ctx context.Context, user string, key PublicKey) error
	// RemoveUserKey emits EventKeyRemoved.
	RemoveUserKey(ctx context.Context, user, fingerprint string) error
	UserByKeyFingerprint(ctx context.Context, fingerprint string) (User, error)

	// Groups.
	CreateGroup(ctx context.Context, g Group) error
	GetGroup(ctx context.Context, name string) (Group, error)
	ListGroups(ctx context.Context) ([]Group, error)
	// DeleteGroup removes the group and its grants; emits EventGroupDeleted.
	DeleteGroup(ctx context.Context, name string) error
	AddGroupMember(ctx context.Context, group, user string) error
	// RemoveGroupMember emits EventGroupMemberRemoved.
	RemoveGroupMember(ctx context.Context, group, user string) error

	// Orgs and deployment settings.
	CreateOrg(ctx context.Context, o Org) error
	GetOrg(ctx context.Context, name string) (Org, error)
	ListOrgs(ctx context.Context) ([]Org, error)
	// SetOrgSharingDisabled emits EventSharingDisabled (with Org) when disabling.
	SetOrgSharingDisabled(ctx context.Context, org string, disabled bool) error
	GetSettings(ctx context.Context) (Settings, error)
	// SetSettings emits EventSharingDisabled (no Org) when it disables sharing.
	SetSettings(ctx context.Context, s Settings) error

	// Workspaces. CreateWorkspace assigns a UID (NewID) when w.UID is
	// empty and keeps a caller's UID that ValidateUID accepts; a UID in use
	// is a *ConflictError. No write changes a UID afterwards.
	CreateWorkspace(ctx context.Context, w Workspace) error
	GetWorkspace(ctx context.Context, id WorkspaceID) (Workspace, error)
	// GetWorkspaceByUID finds a workspace by its UID, under its current
	// name; a deleted workspace's UID is never found again.
	GetWorkspaceByUID(ctx context.Context, uid string) (Workspace, error)
	WorkspaceByAgentTokenHash(ctx context.Context, hash string) (Workspace, error)
	ListWorkspaces(ctx context.Context) ([]Workspace, error)
	WorkspacesOwnedBy(ctx context.Context, user string) ([]Workspace, error)
	// WorkspacesSharedWithUser lists workspaces the user holds a grant on,
	// directly or through any of their groups.
	WorkspacesSharedWithUser(ctx context.Context, user string) ([]SharedWorkspace, error)
	// WorkspacesSharedWithGroup lists workspaces the group holds a grant on.
	WorkspacesSharedWithGroup(ctx context.Context, group string) ([]SharedWorkspace, error)
	// RenameWorkspace keeps grants and the UID; emits EventWorkspaceRenamed
	// for the old ID, with NewName.
	RenameWorkspace(ctx context.Context, id WorkspaceID, newName string) error
	// SetWorkspaceState emits EventWorkspaceStopped when the new state is
	// stopping, stopped or failed.
	SetWorkspaceState(ctx context.Context, id WorkspaceID, state WorkspaceState) error
	// SetAgentTokenHash rotates the agent token; emits EventAgentTokenRotated.
	SetAgentTokenHash(ctx context.Context, id WorkspaceID, hash string) error
	// DeleteWorkspace removes it with its grants; emits EventWorkspaceDeleted.
	DeleteWorkspace(ctx context.Context, id WorkspaceID) error

	// Grants.
	ListGrants(ctx context.Context, id WorkspaceID) ([]Grant, error)
	// ApplyGrants applies every change or none. Each subject must exist
	// (users not suspended), roles must be grantable (or RoleNone to
	// remove), and the owner cannot be named. Removing or lowering a grant
	// emits EventGrantRemoved or EventGrantLowered.
	ApplyGrants(ctx context.Context, id WorkspaceID, changes []GrantChange) error
	// ClearGrants removes every grant of the workspace; EventGrantRemoved for each.
	ClearGrants(ctx context.Context, id WorkspaceID) error
	// DeleteExpiredGrants removes grants whose ExpiresAt is at or before now
	// and emits EventGrantExpired for each; it returns how many it removed.
	DeleteExpiredGrants(ctx context.Context, now time.Time) (int, error)

	// API tokens (stored by hash).
	CreateToken(ctx context.Context, t Token) error
	TokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context, user string) ([]Token, error)
	// RevokeToken emits EventTokenRevoked.
	RevokeToken(ctx context.Context, user, id string) error

	// Subscribe delivers events of every write made from now on, through
	// any client of the same store, until ctx ends; then the channel closes.
	// A subscriber that falls behind, or a backend that lost its event feed
	// for a while, receives EventResync: treat everything as changed.
	Subscribe(ctx context.Context) (<-chan Event, error)

	Close() error

	// Secret returns the named secret: 32 random bytes made on first use,
	// atomically, so every replica and every restart gets the same bytes.
	// Names are checked with ValidateName.
	Secret(ctx context.Context, name string) ([]byte, error)

	// SetWorkspaceSettings replaces the workspace's settings (validated) and emits EventWorkspaceSettingsChanged when the
	// change narrows them (WorkspaceSettings.Narrows).
	SetWorkspaceSettings(ctx context.Context, id WorkspaceID, s WorkspaceSettings) error

	// Agent keys (see agentkey.go). SetAgentTokenHash unpins the agent's
	// key (a new token is a new enrolment); DeleteWorkspace removes it.
	AgentKeyStore

	// Revoked SSH certificates and keys (certrevoke.go).
	CertRevocations

	// Single uses every replica agrees on (once.go).
	OnceStore

	// Ownership transfer and the update-required flag (transfer.go).
	WorkspaceTransfers
}

// SharedWorkspace is a workspace as seen by one grantee.
type SharedWorkspace struct {
	Workspace Workspace
	// Role is the highest role among the grants that matched.
	Role Role
	// Direct is true when the user holds a grant in their own name.
	Direct bool
	// ViaGroups names the groups whose grants matched, sorted.
	ViaGroups []string
}
