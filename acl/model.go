package acl

import (
	"fmt"
	"strings"
	"time"
)

// WorkspaceID names a workspace: its owner and its name, "owner/name".
type WorkspaceID struct {
	Owner string
	Name  string
}

// String returns "owner/name".
func (id WorkspaceID) String() string { return id.Owner + "/" + id.Name }

// ParseWorkspaceID parses "owner/name". A bare name is an error here; callers
// that accept a bare name resolve it against the caller first.
func ParseWorkspaceID(s string) (WorkspaceID, error) {
	owner, name, ok := strings.Cut(s, "/")
	if !ok {
		return WorkspaceID{}, fmt.Errorf("invalid workspace %q: expected owner/name", s)
	}
	id := WorkspaceID{Owner: owner, Name: name}
	if err := ValidateName("user", owner); err != nil {
		return WorkspaceID{}, fmt.Errorf("invalid workspace %q: %w", s, err)
	}
	if err := ValidateName("workspace", name); err != nil {
		return WorkspaceID{}, fmt.Errorf("invalid workspace %q: %w", s, err)
	}
	return id, nil
}

// PublicKey is one SSH public key of a user.
type PublicKey struct {
	// Fingerprint is the SHA256 fingerprint as ssh-keygen prints it
	// ("SHA256:..."); it is the key's identity in the store.
	Fingerprint string `json:"fingerprint"`
	// AuthorizedKey is the key in authorized_keys format, without comment.
	AuthorizedKey string    `json:"authorized_key"`
	Comment       string    `json:"comment,omitempty"`
	AddedAt       time.Time `json:"added_at"`
}

// User is a person (or robot) that may sign in.
type User struct {
	Name        string      `json:"name"`
	DisplayName string      `json:"display_name,omitempty"`
	Org         string      `json:"org,omitempty"`
	SiteAdmin   bool        `json:"site_admin"`
	Suspended   bool        `json:"suspended"`
	Keys        []PublicKey `json:"keys,omitempty"`
	// Groups is derived from group membership, sorted; stores fill it on read
	// and ignore it on create.
	Groups    []string  `json:"groups,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Group is a named set of users that grants can name.
type Group struct {
	Name      string    `json:"name"`
	Org       string    `json:"org,omitempty"`
	Members   []string  `json:"members"` // sorted
	CreatedAt time.Time `json:"created_at"`
}

// Org is an organization; its setting can disable sharing for its workspaces.
type Org struct {
	Name            string    `json:"name"`
	SharingDisabled bool      `json:"sharing_disabled"`
	CreatedAt       time.Time `json:"created_at"`
}

// Settings are deployment-wide.
type Settings struct {
	SharingDisabled bool `json:"sharing_disabled"`
}

// WorkspaceState is where a workspace is in its lifecycle.
type WorkspaceState string

const (
	StateStopped  WorkspaceState = "stopped"
	StateStarting WorkspaceState = "starting"
	StateRunning  WorkspaceState = "running"
	StateStopping WorkspaceState = "stopping"
	StateFailed   WorkspaceState = "failed"
)

// Valid reports whether s is one of the known states.
func (s WorkspaceState) Valid() bool {
	switch s {
	case StateStopped, StateStarting, StateRunning, StateStopping, StateFailed:
		return true
	}
	return false
}

// Workspace is a place people work in, reached through its agent.
type Workspace struct {
	// UID is the workspace's immutable identity: the store assigns it at
	// creation (or keeps a valid one the caller gives) and never changes
	// it, not even on rename. A workspace deleted and created again under
	// the same owner/name gets a new UID, so what is keyed by UID (agent
	// tunnels, sessions) never reaches the new one.
	UID   string         `json:"uid"`
	Owner string         `json:"owner"`
	Name  string         `json:"name"`
	Org   string         `json:"org,omitempty"`
	State WorkspaceState `json:"state"`
	// AgentTokenHash is HashToken of the agent's token; the token itself is
	// shown once at creation and never stored.
	AgentTokenHash string    `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Settings are the workspace's own (wssettings.go).
	Settings WorkspaceSettings `json:"settings"`
	// UpdateRequired is set by hand (wsgate workspaces mark-outdated) and
	// cleared by a successful update; while set, a `use` grantee may
	// update and start updates first.
	UpdateRequired bool `json:"update_required,omitempty"`
}

// ID returns the workspace's owner/name.
func (w Workspace) ID() WorkspaceID { return WorkspaceID{Owner: w.Owner, Name: w.Name} }

// SubjectKind says whether a grant names a user or a group.
type SubjectKind uint8

const (
	SubjectUser SubjectKind = iota + 1
	SubjectGroup
)

// String returns "user" or "group".
func (k SubjectKind) String() string {
	switch k {
	case SubjectUser:
		return "user"
	case SubjectGroup:
		return "group"
	}
	return fmt.Sprintf("SubjectKind(%d)", uint8(k))
}

// Grant gives a user or a group a role on a workspace.
type Grant struct {
	Workspace WorkspaceID `json:"workspace"`
	Kind      SubjectKind `json:"kind"`
	Subject   string      `json:"subject"`
	Role      Role        `json:"role"`
	// ExpiresAt, when set, ends the grant; zero means no expiry.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
}

// GrantChange is one entry of an atomic grant update: set Role for the
// subject, or remove its grant when Role is RoleNone.
type GrantChange struct {
	Kind      SubjectKind
	Subject   string
	Role      Role
	ExpiresAt time.Time
}

// Token is an API token. Only its hash is stored.
type Token struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}
