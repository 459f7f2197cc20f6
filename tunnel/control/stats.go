package control

import "time"

// Stats is what the agent reports about itself; it is also the body of
// GET /api/v1/workspaces/{owner}/{name}/stats. Bytes count every SSH and app
// stream since the agent started.
type Stats struct {
	StartedAt     time.Time `json:"started_at"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	// LoadAverage is the 1, 5 and 15 minute load of the workspace's host;
	// empty when the agent cannot read it (no /proc/loadavg).
	LoadAverage []float64   `json:"load_average,omitempty"`
	Connections int         `json:"connections"` // live SSH connections
	Sessions    int         `json:"sessions"`    // live shells, commands and sftp sessions
	TCPStreams  int         `json:"tcp_streams"` // live app-proxy streams
	Users       []UserStats `json:"users"`       // who is connected, by name
	BytesIn     uint64      `json:"bytes_in"`    // from the gateway into the workspace
	BytesOut    uint64      `json:"bytes_out"`   // from the workspace to the gateway
}

// UserStats is one connected user's share of the agent's live streams.
type UserStats struct {
	Name        string `json:"name"`
	Connections int    `json:"connections"`
	Sessions    int    `json:"sessions"`
	TCPStreams  int    `json:"tcp_streams"`
}
