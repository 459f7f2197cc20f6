package apiclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/httpapi"
)

// WorkspaceStats asks the workspace's agent for its stats (409 when the
// agent is not connected).
func (c *Client) WorkspaceStats(ctx context.Context, id acl.WorkspaceID) (httpapi.AgentStats, error) {
	var s httpapi.AgentStats
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
	var l httpapi.AgentLogs
	err := c.do(ctx, http.MethodGet, wsPath(id, "logs"), q, nil, &l)
	return l.Lines, err
}

// WorkspaceConnections lists who is connected to the workspace through the
// gateway answering.
func (c *Client) WorkspaceConnections(ctx context.Context, id acl.WorkspaceID) ([]httpapi.Connection, error) {
	var cs []httpapi.Connection
	err := c.do(ctx, http.MethodGet, wsPath(id, "connections"), nil, nil, &cs)
	return cs, err
}
