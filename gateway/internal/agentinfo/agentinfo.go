// Package agentinfo answers what the API tells about a workspace's agent:
// stats and logs asked of the agent over a control stream of its tunnel,
// and who is connected through this replica.
package agentinfo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/httpapi"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/tunnel"
)

// maxControlAnswer bounds what the gateway reads from an agent's control
// stream: 1000 log lines of at most 2 KiB each, with room for JSON escapes.
const maxControlAnswer = 8 << 20

// Dialer opens a stream to a workspace's agent; *tunnel.Registry satisfies it.
type Dialer interface {
	Open(ctx context.Context, key string, h tunnel.Header) (net.Conn, error)
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

// controlRequest and controlResponse are the agent's control protocol
// (agent.ControlRequest, agent.ControlResponse): one JSON request after the
// stream header, one JSON answer, then the agent closes.
type controlRequest struct {
	Op    string `json:"op"`
	Lines int    `json:"lines,omitempty"`
}

type controlResponse struct {
	Stats *httpapi.AgentStats `json:"stats"`
	Lines []string            `json:"lines"`
	Error string              `json:"error"`
}

// ask sends one control request to the agent of id and reads its answer.
func (a *AgentInfo) ask(ctx context.Context, id acl.WorkspaceID, req controlRequest) (controlResponse, error) {
	stream, err := a.agents.Open(ctx, id.String(), tunnel.Header{Kind: tunnel.KindControl})
	if errors.Is(err, tunnel.ErrAgentNotConnected) {
		return controlResponse{}, fmt.Errorf("%w: %w", httpapi.ErrAgentNotConnected, err)
	}
	if err != nil {
		return controlResponse{}, err
	}
	defer stream.Close()
	stop := context.AfterFunc(ctx, func() { _ = stream.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	b, err := json.Marshal(req)
	if err != nil {
		return controlResponse{}, err
	}
	if _, err := stream.Write(append(b, '\n')); err != nil {
		return controlResponse{}, fmt.Errorf("send %s request: %w", req.Op, err)
	}
	data, err := io.ReadAll(io.LimitReader(stream, maxControlAnswer+1))
	if err != nil {
		return controlResponse{}, fmt.Errorf("read %s answer: %w", req.Op, err)
	}
	if len(data) > maxControlAnswer {
		return controlResponse{}, fmt.Errorf("%s answer larger than %d bytes", req.Op, maxControlAnswer)
	}
	if len(data) == 0 {
		// Agents older than the control stream close it unanswered.
		return controlResponse{}, fmt.Errorf("the agent did not answer %s (is it older than this gateway?)", req.Op)
	}
	var resp controlResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		return controlResponse{}, fmt.Errorf("decode %s answer: %w", req.Op, err)
	}
	if resp.Error != "" {
		return controlResponse{}, fmt.Errorf("agent: %s", resp.Error)
	}
	return resp, nil
}

// Stats asks the workspace's agent for its stats.
func (a *AgentInfo) Stats(ctx context.Context, id acl.WorkspaceID) (httpapi.AgentStats, error) {
	resp, err := a.ask(ctx, id, controlRequest{Op: "stats"})
	if err != nil {
		return httpapi.AgentStats{}, err
	}
	if resp.Stats == nil {
		return httpapi.AgentStats{}, errors.New("the agent answered stats without stats")
	}
	return *resp.Stats, nil
}

// Logs asks the workspace's agent for its n newest log lines.
func (a *AgentInfo) Logs(ctx context.Context, id acl.WorkspaceID, n int) ([]string, error) {
	resp, err := a.ask(ctx, id, controlRequest{Op: "logs", Lines: n})
	if err != nil {
		return nil, err
	}
	if resp.Lines == nil {
		return nil, errors.New("the agent answered logs without lines")
	}
	return resp.Lines, nil
}

// Connections lists this replica's live SSH connections to id, oldest
// first.
func (a *AgentInfo) Connections(id acl.WorkspaceID) []httpapi.Connection {
	out := []httpapi.Connection{}
	for _, s := range a.sessions.Connections(id.String()) {
		via := "ssh"
		if s.TokenID != "" {
			via = "https"
		}
		out = append(out, httpapi.Connection{
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
