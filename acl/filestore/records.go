package filestore

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

// workspaceRecord is a workspace as stored: unlike acl.Workspace's JSON it
// keeps the agent token hash.
type workspaceRecord struct {
	Owner          string             `json:"owner"`
	Name           string             `json:"name"`
	Org            string             `json:"org,omitempty"`
	State          acl.WorkspaceState `json:"state"`
	AgentTokenHash string             `json:"agent_token_hash,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

func toWorkspaceRecord(w acl.Workspace) workspaceRecord {
	return workspaceRecord{Owner: w.Owner, Name: w.Name, Org: w.Org, State: w.State,
		AgentTokenHash: w.AgentTokenHash, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

func (r workspaceRecord) workspace() acl.Workspace {
	return acl.Workspace{Owner: r.Owner, Name: r.Name, Org: r.Org, State: r.State,
		AgentTokenHash: r.AgentTokenHash, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// tokenRecord is a token as stored, hash included.
type tokenRecord struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

func toTokenRecord(t acl.Token) tokenRecord {
	return tokenRecord{ID: t.ID, User: t.User, Name: t.Name, Hash: t.Hash, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
}

func (r tokenRecord) token() acl.Token {
	return acl.Token{ID: r.ID, User: r.User, Name: r.Name, Hash: r.Hash, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// expired reports whether a deadline (zero: none) has passed at now.
func expired(at, now time.Time) bool { return !at.IsZero() && !at.After(now) }

// shortHash names a secret's hash in errors without spelling it out.
func shortHash(h string) string {
	if len(h) > 8 {
		return h[:8] + "…"
	}
	return h
}
