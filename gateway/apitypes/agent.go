package apitypes

import (
	"time"

	"github.com/wsgate/wsgate/tunnel/control"
)

// AgentStats is the answer of GET /api/v1/workspaces/{owner}/{name}/stats:
// the stats the agent reports over its control stream, passed through.
type AgentStats = control.Stats

// Bounds of GET .../logs?lines=N.
const (
	DefaultLogLines = 100
	MaxLogLines     = 1000
)

// AgentLogs is the answer of GET /api/v1/workspaces/{owner}/{name}/logs.
type AgentLogs struct {
	Lines []string `json:"lines"`
}

// Connection is one live SSH connection to a workspace through the
// gateway that answers (GET /api/v1/workspaces/{owner}/{name}/connections).
type Connection struct {
	SessionID string `json:"session_id"`
	User      string `json:"user"`
	// Via is "ssh" for the SSH front door, "https" for `wsgate ssh`.
	Via            string    `json:"via"`
	RemoteAddr     string    `json:"remote_addr"`
	Since          time.Time `json:"since"`
	KeyFingerprint string    `json:"key_fingerprint,omitempty"`
}
