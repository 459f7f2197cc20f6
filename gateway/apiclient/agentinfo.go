package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// WorkspaceStats asks the workspace's agent for its stats (409 when the
// agent is not connected).
func (c *Client) WorkspaceStats(ctx context.Context, id acl.WorkspaceID) (apitypes.AgentStats, error) {
	var s apitypes.AgentStats
	err := c.do(ctx, http.MethodGet, wsPath(id, "stats"), nil, nil, &s)
	return s, err
}

// WorkspaceLogs returns up to lines of the agent's newest log lines, oldest
// first; lines 0 means the server's default.
func (c *Client) WorkspaceLogs(ctx context.Context, id acl.WorkspaceID, lines int) ([]string, error) {
	var q url.Values
	if lines != 0 {
		q = url.Values{"lines": {strconv.Itoa(lines)}}
	}
	var l apitypes.AgentLogs
	err := c.do(ctx, http.MethodGet, wsPath(id, "logs"), q, nil, &l)
	return l.Lines, err
}

// WorkspaceConnections lists who is connected to the workspace through the
// gateway answering.
func (c *Client) WorkspaceConnections(ctx context.Context, id acl.WorkspaceID) ([]apitypes.Connection, error) {
	var cs []apitypes.Connection
	err := c.do(ctx, http.MethodGet, wsPath(id, "connections"), nil, nil, &cs)
	return cs, err
}
