package sshfront

import (
	"context"
	"fmt"
	"net"

	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// dialAgent opens the user connection's conn stream to the workspace's
// agent (tunnel protocol v2: no second SSH connection inside the tunnel;
// see tunnel/chanwire/spec.md). Channel streams are opened on demand with
// the same user and session id, which is how the agent ties them together.
func (s *Server) dialAgent(p *proxy) (<-chan *chanwire.NewChannel, <-chan *chanwire.Request, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
	defer cancel()
	hdr := tunnel.Header{Kind: tunnel.KindConn, User: p.id.User, SessionID: p.info.ID}
	ctrl, err := s.cfg.Agents.Open(ctx, p.info.WorkspaceUID, hdr)
	if err != nil {
		return nil, nil, fmt.Errorf("open agent stream: %w", err)
	}
	hdr.Kind = tunnel.KindChannel
	dial := func(ctx context.Context) (net.Conn, error) {
		return s.cfg.Agents.Open(ctx, p.info.WorkspaceUID, hdr)
	}
	conn, chans, reqs, err := chanwire.Client(ctx, ctrl, dial)
	if err != nil {
		return nil, nil, fmt.Errorf("agent connection: %w", err)
	}
	p.agent = conn
	return chans, reqs, nil
}
