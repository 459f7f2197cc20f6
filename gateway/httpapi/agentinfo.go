package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/tunnel/control"
)

// AgentInfo answers what the API tells about a workspace's agent: its
// stats and recent logs (asked of the agent itself) and who is connected
// through this gateway. The gateway implements it over its agent tunnels
// and SSH sessions; Config.AgentInfo sets it.
type AgentInfo interface {
	// Stats and Logs fail with ErrAgentNotConnected (wrapped) when the
	// workspace's agent has no tunnel to this gateway.
	// The workspace is named by the record the API loaded: agents and
	// sessions are keyed by its UID.
	Stats(ctx context.Context, ws acl.Workspace) (control.Stats, error)
	// Logs returns up to n of the agent's newest log lines, oldest first.
	Logs(ctx context.Context, ws acl.Workspace, n int) ([]string, error)
	// Connections lists the live SSH connections to the workspace through
	// this gateway, oldest first.
	Connections(ws acl.Workspace) []apitypes.Connection
	// Connected reports whether the workspace's agent has a tunnel to this
	// gateway.
	Connected(ws acl.Workspace) bool
	// LastRefusal says why and when this gateway last refused the
	// workspace's authenticated agent, until an agent connects; nil if
	// it did not.
	LastRefusal(ws acl.Workspace) *apitypes.AgentRefusal
	// LastTakeover says when and from where this gateway last let an
	// agent replace the workspace's silent tunnel; nil if it never did.
	LastTakeover(ws acl.Workspace) *apitypes.AgentRefusal
}

// ErrAgentNotConnected is returned (wrapped) by AgentInfo when the
// workspace's agent is not connected.
var ErrAgentNotConnected = errors.New("agent not connected")

// agentInfo returns the configured AgentInfo or a 503.
func (a *api) agentInfo() (AgentInfo, error) {
	if a.cfg.AgentInfo == nil {
		return nil, errorf(http.StatusServiceUnavailable, "this server does not report agent information")
	}
	return a.cfg.AgentInfo, nil
}

// agentError maps an AgentInfo failure to an answer.
func agentError(id acl.WorkspaceID, err error) error {
	if errors.Is(err, ErrAgentNotConnected) {
		return errorf(http.StatusConflict, "workspace %s is not running: its agent is not connected", id)
	}
	var he *httpError
	if errors.As(err, &he) {
		return err
	}
	return errorf(http.StatusBadGateway, "cannot reach the agent of workspace %s: %v", id, err)
}

// agentTimeout bounds one question to an agent.
const agentTimeout = 10 * time.Second

func (a *api) getStats(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	info, err := a.agentInfo()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), agentTimeout)
	defer cancel()
	s, err := info.Stats(ctx, c.ws)
	if err != nil {
		return agentError(c.ws.ID(), err)
	}
	if s.Users == nil {
		s.Users = []control.UserStats{}
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (a *api) getLogs(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	n := apitypes.DefaultLogLines
	if v := r.URL.Query().Get("lines"); v != "" {
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 || n > apitypes.MaxLogLines {
			return invalidField("lines", "lines must be a number from 1 to %d, not %q", apitypes.MaxLogLines, v)
		}
	}
	info, err := a.agentInfo()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), agentTimeout)
	defer cancel()
	lines, err := info.Logs(ctx, c.ws, n)
	if err != nil {
		return agentError(c.ws.ID(), err)
	}
	if lines == nil {
		lines = []string{}
	}
	writeJSON(w, http.StatusOK, apitypes.AgentLogs{Lines: lines})
	return nil
}

func (a *api) getConnections(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	c, err := a.loadAccess(r, caller, acl.ActionView)
	if err != nil {
		return err
	}
	info, err := a.agentInfo()
	if err != nil {
		return err
	}
	conns := info.Connections(c.ws)
	if conns == nil {
		conns = []apitypes.Connection{}
	}
	writeJSON(w, http.StatusOK, conns)
	return nil
}
