package agentinfo

import (
	"context"
	"errors"
	"fmt"

	"github.com/wsgate/wsgate/gateway/internal/revoke"
	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/control"
)

var _ revoke.AgentProcesses = (*AgentInfo)(nil)

// askUID sends one control request to the agent of the workspace with
// UID uid.
func (a *AgentInfo) askUID(ctx context.Context, uid string, req control.Request) (control.Response, error) {
	stream, err := a.agents.Open(ctx, uid, tunnel.Header{Kind: tunnel.KindControl})
	if err != nil {
		return control.Response{}, err
	}
	defer stream.Close()
	return control.Ask(ctx, stream, req)
}

// ProcessUsers asks the agent which users have live processes.
func (a *AgentInfo) ProcessUsers(ctx context.Context, uid string) ([]string, error) {
	resp, err := a.askUID(ctx, uid, control.Request{Op: control.OpUsers})
	if err != nil {
		return nil, err
	}
	if resp.Users == nil {
		return nil, errors.New("the agent answered users without users")
	}
	return resp.Users, nil
}

// EndProcesses has the agent end every process of users, control.MaxEndUsers
// at a time, and returns what it ended.
func (a *AgentInfo) EndProcesses(ctx context.Context, uid string, users []string) ([]revoke.EndedProcess, error) {
	var out []revoke.EndedProcess
	for len(users) > 0 {
		n := min(len(users), control.MaxEndUsers)
		resp, err := a.askUID(ctx, uid, control.Request{Op: control.OpEndUsers, Users: users[:n]})
		if err != nil {
			return out, fmt.Errorf("end processes of %v: %w", users[:n], err)
		}
		for _, e := range resp.Ended {
			out = append(out, revoke.EndedProcess{User: e.User, PID: e.PID, Command: e.Command})
		}
		users = users[n:]
	}
	return out, nil
}
