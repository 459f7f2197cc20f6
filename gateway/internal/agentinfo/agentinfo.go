// Package agentinfo answers what the API tells about a workspace's agent:
// stats and logs asked of the agent over a control stream of its tunnel,
// and who is connected through this replica.
package agentinfo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/control"
)

// Dialer opens streams to workspaces' agents and tells whether one is
// connected or was refused; *tunnel.Registry satisfies it.
type Dialer interface {
	Open(ctx context.Context, key string, h tunnel.Header) (net.Conn, error)
	Connected(key string) bool
	LastRefusal(key string) (msg string, at time.Time, ok bool)
	LastTakeover(key string) (msg string, at time.Time, ok bool)
}

// AgentInfo implements httpapi.AgentInfo on this replica.
type AgentInfo struct {
	agents   Dialer
	sessions *sessions.Registry
}

var _ httpapi.AgentInfo = (*AgentInfo)(nil)

// New asks agents through agents and lists the live sessions of reg.
func New(agents Dialer, reg *sessions.Registry) *AgentInfo {
	return &AgentInfo{agents: agents, sessions: reg}
}

// ask sends one control request to the workspace's agent.
func (a *AgentInfo) ask(ctx context.Context, ws acl.Workspace, req control.Request) (control.Response, error) {
	stream, err := a.agents.Open(ctx, ws.UID, tunnel.Header{Kind: tunnel.KindControl})
	if errors.Is(err, tunnel.ErrAgentNotConnected) {
		return control.Response{}, fmt.Errorf("%w: %w", httpapi.ErrAgentNotConnected, err)
	}
	if err != nil {
		return control.Response{}, err
	}
	defer stream.Close()
	return control.Ask(ctx, stream, req)
}

// Stats asks the workspace's agent for its stats.
func (a *AgentInfo) Stats(ctx context.Context, ws acl.Workspace) (control.Stats, error) {
	resp, err := a.ask(ctx, ws, control.Request{Op: control.OpStats})
	if err != nil {
		return control.Stats{}, err
	}
	if resp.Stats == nil {
		return control.Stats{}, errors.New("the agent answered stats without stats")
	}
	return *resp.Stats, nil
}

// Logs asks the workspace's agent for its n newest log lines.
func (a *AgentInfo) Logs(ctx context.Context, ws acl.Workspace, n int) ([]string, error) {
	resp, err := a.ask(ctx, ws, control.Request{Op: control.OpLogs, Lines: n})
	if err != nil {
		return nil, err
	}
	if resp.Lines == nil {
		return nil, errors.New("the agent answered logs without lines")
	}
	return resp.Lines, nil
}

// Connected reports whether ws's agent has a tunnel to this replica.
func (a *AgentInfo) Connected(ws acl.Workspace) bool { return a.agents.Connected(ws.UID) }

// LastRefusal says why and when this replica last refused ws's agent,
// until an agent of ws connects.
func (a *AgentInfo) LastRefusal(ws acl.Workspace) *apitypes.AgentRefusal {
	msg, at, ok := a.agents.LastRefusal(ws.UID)
	if !ok {
		return nil
	}
	return &apitypes.AgentRefusal{Message: msg, At: at}
}

// LastTakeover says when and how this replica last let an agent replace
// ws's silent tunnel.
func (a *AgentInfo) LastTakeover(ws acl.Workspace) *apitypes.AgentRefusal {
	msg, at, ok := a.agents.LastTakeover(ws.UID)
	if !ok {
		return nil
	}
	return &apitypes.AgentRefusal{Message: msg, At: at}
}

// Connections lists this replica's live SSH connections to ws, oldest
// first.
func (a *AgentInfo) Connections(ws acl.Workspace) []apitypes.Connection {
	out := []apitypes.Connection{}
	for _, s := range a.sessions.Connections(ws.UID) {
		via := "ssh"
		if s.TokenID != "" {
			via = "https"
		}
		out = append(out, apitypes.Connection{
			SessionID:      s.ID,
			User:           s.User,
			Via:            via,
			RemoteAddr:     s.RemoteAddr,
			Since:          s.Started,
			KeyFingerprint: s.KeyFingerprint,
		})
	}
	return out
}
