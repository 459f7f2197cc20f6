package acl

import (
	"context"
	"time"
)

// AgentKey is the public key pinned for a workspace's agent, and who was
// exposed to it. The agent token is only an enrolment secret: the agent
// presents it once with a key of its own (EnrolAgent), and from then on
// proves who it is by signing with that key. Everyone who had a session
// while a key was pinned could have copied it (sessions run as the agent's
// OS user), so when one of them loses access the key is replaced.
type AgentKey struct {
	WorkspaceUID string `json:"workspace_uid"`
	// PublicKey is the pinned key in authorized_keys format, without
	// comment; empty when none is pinned (never enrolled, the token was
	// replaced, or the key was revoked).
	PublicKey string `json:"public_key,omitempty"`
	// Revoked is set when the pinned key was revoked without a
	// replacement: the agent needs a new enrolment token from the owner.
	Revoked bool `json:"revoked,omitempty"`
	// Exposed are the users who had a session to the workspace since the
	// key was pinned, sorted.
	Exposed  []string  `json:"exposed,omitempty"`
	PinnedAt time.Time `json:"pinned_at,omitzero"`
}

// AgentKeyStore is the part of Store that keeps agents' keys. Every
// method finds the workspace by UID (or by its agent token hash); an
// unknown one is a *NotFoundError.
type AgentKeyStore interface {
	// EnrolAgent consumes the agent token whose hash is tokenHash and pins
	// publicKey on its workspace, in one write: from then on the token
	// authenticates nothing (WorkspaceByAgentTokenHash does not find it),
	// the key replaces any pinned before, Revoked and Exposed are cleared.
	// It returns the workspace.
	EnrolAgent(ctx context.Context, tokenHash, publicKey string) (Workspace, error)
	// GetAgentKey returns the workspace's agent key; a workspace whose
	// agent never enrolled has a zero one (with its UID).
	GetAgentKey(ctx context.Context, uid string) (AgentKey, error)
	// ListAgentKeys returns every workspace's agent key that has a key
	// pinned or revoked, or anyone exposed, sorted by UID.
	ListAgentKeys(ctx context.Context) ([]AgentKey, error)
	// ReplaceAgentKey pins next in place of old, a compare-and-swap: when
	// old is not the pinned key it changes nothing and is a
	// *ConflictError. An empty next revokes the key (Revoked). Exposed
	// becomes exposed (sorted, deduplicated): the users whose sessions
	// outlive the replacement.
	ReplaceAgentKey(ctx context.Context, uid, old, next string, exposed []string) error
	// NoteAgentExposure adds user to the workspace's Exposed (idempotent).
	NoteAgentExposure(ctx context.Context, uid, user string) error
}
