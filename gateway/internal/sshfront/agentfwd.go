package sshfront

import (
	"context"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
)

// workspacePolicy answers what the proxy asks about a workspace's own
// settings; *access.Authorizer satisfies it.
type workspacePolicy interface {
	Settings(ctx context.Context, ws acl.WorkspaceID, uid string) (acl.WorkspaceSettings, error)
	Reach(ctx context.Context, user string, ws acl.WorkspaceID, uid string) (access.Reach, error)
}

// agentForwardVerdict decides an auth-agent-req for workspace ws: allowed
// when no one else can reach the workspace, or when its owner allowed
// forwarding; refused otherwise (and when the facts could not be read:
// err). msg, when not empty, is shown on the session's stderr.
func agentForwardVerdict(ws acl.WorkspaceID, r access.Reach, err error) (allow bool, msg string) {
	if err != nil {
		return false, fmt.Sprintf("wsgate: agent forwarding refused: cannot check who else can reach %s right now", ws)
	}
	if r.Others == 0 {
		return true, ""
	}
	who := plural(r.Others, "other user")
	if !r.Settings.AgentForwarding {
		return false, fmt.Sprintf("wsgate: agent forwarding refused: %s can reach workspace %s and could use your keys through the forwarded socket; "+
			"its owner can allow it with: wsgate workspaces settings set %s %s=on", who, ws, ws, acl.SettingAgentForwarding)
	}
	return true, fmt.Sprintf("wsgate: your ssh-agent is forwarded into %s, where %s can reach its socket (and use your keys) while this session lasts", ws, who)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// decideAgentForward weighs an auth-agent-req (OpenSSH sends it without
// wanting a reply, so a refusal is only seen on stderr): the request
// goes on to the agent only when it returns true.
func (b *bridge) decideAgentForward() bool {
	p := b.p
	if p.policy == nil {
		return true
	}
	r, err := p.policy.Reach(p.ctx, p.info.User, p.info.Workspace, p.info.WorkspaceUID)
	allow, msg := agentForwardVerdict(p.info.Workspace, r, err)
	if msg != "" {
		b.tellUser([]byte(msg + "\r\n"))
	}
	p.log.Info("ssh agent forwarding", "allowed", allow, "others", r.Others, "setting", r.Settings.AgentForwarding, "err", err)
	return allow
}

// forwardAgentRequest is forwardUserRequest for auth-agent-req@openssh.com.
func (b *bridge) forwardAgentRequest(r *ssh.Request) {
	if !b.decideAgentForward() {
		replyIfWanted(r, false, nil)
		return
	}
	b.p.agentForwardOK.Store(true)
	b.forwardUserRequest(r)
}
