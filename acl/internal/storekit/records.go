package storekit

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

// WorkspaceRecord is a workspace as stored: unlike acl.Workspace's JSON it
// keeps the agent token hash.
type WorkspaceRecord struct {
	// UID is empty only in records written before UIDs existed; the
	// backends' migrations fill it in.
	UID            string             `json:"uid,omitempty"`
	Owner          string             `json:"owner"`
	Name           string             `json:"name"`
	Org            string             `json:"org,omitempty"`
	State          acl.WorkspaceState `json:"state"`
	AgentTokenHash string             `json:"agent_token_hash,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
	// Settings: absent in records written before workspace settings.
	Settings acl.WorkspaceSettings `json:"settings,omitzero"`
	// UpdateRequired: see acl.Workspace.
	UpdateRequired bool `json:"update_required,omitempty"`
}

// ToWorkspaceRecord is w as stored.
func ToWorkspaceRecord(w acl.Workspace) WorkspaceRecord {
	return WorkspaceRecord{UID: w.UID, Owner: w.Owner, Name: w.Name, Org: w.Org, State: w.State,
		AgentTokenHash: w.AgentTokenHash, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Settings: w.Settings,
		UpdateRequired: w.UpdateRequired}
}

// Workspace is the stored workspace back as an acl.Workspace.
func (r WorkspaceRecord) Workspace() acl.Workspace {
	return acl.Workspace{UID: r.UID, Owner: r.Owner, Name: r.Name, Org: r.Org, State: r.State,
		AgentTokenHash: r.AgentTokenHash, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Settings: r.Settings,
		UpdateRequired: r.UpdateRequired}
}

// TokenRecord is a token as stored, hash included.
type TokenRecord struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// ToTokenRecord is t as stored.
func ToTokenRecord(t acl.Token) TokenRecord {
	return TokenRecord{ID: t.ID, User: t.User, Name: t.Name, Hash: t.Hash, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
}

// Token is the stored token back as an acl.Token.
func (r TokenRecord) Token() acl.Token {
	return acl.Token{ID: r.ID, User: r.User, Name: r.Name, Hash: r.Hash, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// Expired reports whether a deadline (zero: none) has passed at now.
func Expired(at, now time.Time) bool { return !at.IsZero() && !at.After(now) }

// ShortHash names a secret's hash in errors without spelling it out.
func ShortHash(h string) string {
	if len(h) > 8 {
		return h[:8] + "…"
	}
	return h
}
