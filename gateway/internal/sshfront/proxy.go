package sshfront

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/gateway/internal/sessions"
	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// Bounds on how long the proxy waits for a slow user before closing anyway.
const (
	// lostFlushTimeout: after the agent is lost, how long sessions get to
	// copy the agent's last output and show the message.
	lostFlushTimeout = 5 * time.Second
	// dropWriteTimeout: how long Drop waits for its message to be written.
	dropWriteTimeout = 2 * time.Second
)

// proxy bridges one authenticated user connection to the workspace's
// agent: one chanwire connection, a tunnel stream per channel.
type proxy struct {
	// ctx bounds the store reads the proxy makes (workspace settings);
	// policy answers them (nil: allow, for tests of the bridge alone).
	ctx    context.Context
	policy workspacePolicy
	// binds are the ssh -R listeners narrowed to loopback (rforward.go).
	binds remoteBinds

	info  sessions.Info
	id    identity
	user  *ssh.ServerConn
	agent *chanwire.Conn
	log   *slog.Logger
	state *connState

	// closingAgent is set before the gateway closes the agent connection;
	// the agent's side ending without it means the agent was lost.
	closingAgent atomic.Bool
	// Channels the agent may open toward the user only once the user asked
	// for them, so that an agent cannot open what the user never enabled.
	remoteForwardOK      atomic.Bool
	streamlocalForwardOK atomic.Bool
	agentForwardOK       atomic.Bool

	mu      sync.Mutex
	bridges map[*bridge]struct{}
	wg      sync.WaitGroup
}

// lostWait bounds how long a channel that ended without an exit status
// waits to learn whether the whole agent connection went with it.
const lostWait = 200 * time.Millisecond

// agentLost reports whether the agent's side ended without the gateway
// closing it, waiting at most d for the connection's end to show.
func (p *proxy) agentLost(d time.Duration) bool {
	if p.closingAgent.Load() {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.agent.Done():
		return !p.closingAgent.Load()
	case <-t.C:
		return false
	}
}

func (p *proxy) closeAgent() {
	p.closingAgent.Store(true)
	_ = p.agent.Close()
}

// run serves the connection until the user's side ends: one loop takes the
// user's new channels and global requests and the agent's, so an idle
// connection holds no goroutine per source; work that waits (opening a
// channel, a global request's reply) runs elsewhere.
func (p *proxy) run(userChans <-chan ssh.NewChannel, userReqs <-chan *ssh.Request,
	agentChans <-chan *chanwire.NewChannel, agentReqs <-chan *chanwire.Request) {
	// Global requests are answered in order, by a worker that exists only
	// while some wait.
	globals := newWorkQueue(p.globalRequest)
	agentDone := p.agent.Done()
	for userChans != nil || userReqs != nil {
		select {
		case nc, ok := <-userChans:
			if !ok {
				userChans = nil
				continue
			}
			p.userChannel(nc)
		case r, ok := <-userReqs:
			if !ok {
				userReqs = nil
				continue
			}
			globals.push(r)
		case nc, ok := <-agentChans:
			if !ok {
				agentChans = nil
				continue
			}
			p.agentChannel(nc)
		case r, ok := <-agentReqs:
			if !ok {
				agentReqs = nil
				continue
			}
			// The agent has no global request to make.
			_ = r.Reply(false, nil)
		case <-agentDone:
			agentDone = nil
			if p.closingAgent.Load() {
				continue
			}
			p.log.Warn("ssh agent connection lost", "err", p.agent.Wait())
			// Give every session the time to copy the agent's last output
			// and show why it ends, then end the user's connection.
			p.goFn(func() {
				p.waitBridgesFinal(lostFlushTimeout)
				_ = p.user.Close()
			})
		}
	}
	p.closeAgent()
	globals.closeWait()
	<-p.agent.Done()
	p.wg.Wait()
}

func (p *proxy) goFn(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// userChannel opens a channel the user asks for on the agent, or refuses it.
func (p *proxy) userChannel(nc ssh.NewChannel) {
	switch nc.ChannelType() {
	case "session":
	case "direct-tcpip", "direct-streamlocal@openssh.com":
		if p.id.NoPortForward {
			_ = nc.Reject(ssh.Prohibited, "port forwarding is not permitted")
			return
		}
	default:
		_ = nc.Reject(ssh.UnknownChannelType, fmt.Sprintf("channel type %q is not supported", nc.ChannelType()))
		return
	}
	// Opening waits for the agent; never hold up the user's other channels.
	p.goFn(func() { p.openOnAgent(nc) })
}

func (p *proxy) openOnAgent(nc ssh.NewChannel) {
	ach, err := p.agent.OpenChannelHandler(nc.ChannelType(), nc.ExtraData())
	if err != nil {
		var oe *chanwire.OpenChannelError
		if errors.As(err, &oe) {
			_ = nc.Reject(ssh.RejectionReason(oe.Reason), oe.Message)
		} else {
			_ = nc.Reject(ssh.ConnectionFailed, "workspace agent unavailable")
		}
		return
	}
	uch, ureqs, err := nc.Accept()
	if err != nil {
		_ = ach.Close()
		return
	}
	p.bridge(nc.ChannelType(), uch, ureqs, ach)
}

// agentChannel opens on the user's side a channel the agent asks for
// (remote forwarding, agent forwarding), once the user asked for it.
func (p *proxy) agentChannel(nc *chanwire.NewChannel) {
	var enabled *atomic.Bool
	switch nc.ChannelType() {
	case "forwarded-tcpip":
		enabled = &p.remoteForwardOK
	case "forwarded-streamlocal@openssh.com":
		enabled = &p.streamlocalForwardOK
	case "auth-agent@openssh.com":
		enabled = &p.agentForwardOK
	default:
		_ = nc.Reject(chanwire.UnknownChannelType, fmt.Sprintf("channel type %q is not supported", nc.ChannelType()))
		return
	}
	if !enabled.Load() {
		_ = nc.Reject(chanwire.Prohibited, "the user did not ask for "+nc.ChannelType())
		return
	}
	p.goFn(func() { p.openOnUser(nc) })
}

func (p *proxy) openOnUser(nc *chanwire.NewChannel) {
	extra := nc.ExtraData()
	if nc.ChannelType() == "forwarded-tcpip" {
		extra = p.restoreForwardedAddr(extra)
	}
	uch, ureqs, err := p.user.OpenChannel(nc.ChannelType(), extra)
	if err != nil {
		var oe *ssh.OpenChannelError
		if errors.As(err, &oe) {
			_ = nc.Reject(chanwire.RejectionReason(oe.Reason), oe.Message)
		} else {
			_ = nc.Reject(chanwire.ConnectionFailed, "the user's connection is closing")
		}
		return
	}
	ach, err := nc.AcceptHandler()
	if err != nil {
		_ = uch.Close()
		go ssh.DiscardRequests(ureqs)
		return
	}
	p.bridge(nc.ChannelType(), uch, ureqs, ach)
}

// globalRequest forwards remote-forwarding requests to the agent, with the
// reply (and its payload: the chosen port) relayed back, and answers
// everything else (keepalive@openssh.com included) with a failure, as
// OpenSSH does for requests it does not know. The work queue that calls it
// keeps replies in request order, as the protocol requires.
func (p *proxy) globalRequest(r *ssh.Request) {
	switch r.Type {
	case "tcpip-forward", "cancel-tcpip-forward",
		"streamlocal-forward@openssh.com", "cancel-streamlocal-forward@openssh.com":
		if p.id.NoPortForward {
			replyIfWanted(r, false, nil)
			return
		}
		// The user asked for this kind of forward: the agent may open its
		// channels from now on. Not only once it replied, because it
		// listens before it replies and a connection may come in between;
		// if it refuses, it has no listener to open them from.
		switch r.Type {
		case "tcpip-forward":
			p.remoteForwardOK.Store(true)
		case "streamlocal-forward@openssh.com":
			p.streamlocalForwardOK.Store(true)
		}
		var (
			ok      bool
			payload []byte
			err     error
		)
		switch r.Type {
		case "tcpip-forward", "cancel-tcpip-forward":
			ok, payload, err = p.sendTCPIPForward(r)
		default:
			ok, payload, err = p.agent.SendRequest(r.Type, r.WantReply, r.Payload)
		}
		if err != nil {
			ok, payload = false, nil
		}
		p.log.Debug("ssh global request", "type", r.Type, "ok", ok)
		replyIfWanted(r, ok, payload)
	default:
		replyIfWanted(r, false, nil)
	}
}

func replyIfWanted(r *ssh.Request, ok bool, payload []byte) {
	if r.WantReply {
		_ = r.Reply(ok, payload)
	}
}

// rejectRequests answers every request with a failure until reqs closes.
func rejectRequests(reqs <-chan *ssh.Request) {
	for r := range reqs {
		replyIfWanted(r, false, nil)
	}
}

// waitBridgesFinal waits, at most d, until every bridge open now has closed
// its user channel.
func (p *proxy) waitBridgesFinal(d time.Duration) {
	p.mu.Lock()
	var finals []chan struct{}
	for b := range p.bridges {
		finals = append(finals, b.final)
	}
	p.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	for _, f := range finals {
		select {
		case <-f:
		case <-t.C:
			return
		}
	}
}

// sessionBridges returns the bridges of open session channels.
func (p *proxy) sessionBridges() []*bridge {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*bridge
	for b := range p.bridges {
		if b.session {
			out = append(out, b)
		}
	}
	return out
}

// drop writes "wsgate: msg" on the stderr of every open session and ends
// the user's connection for them (fc.halt); closing it, and logging it,
// are left to the caller. It writes on the calling goroutine: a drop is
// one of hundreds at once in a mass revoke, and a goroutine and a wakeup
// more for each delays them all. A user who does not read could block a
// write forever; the timer closes the connection under it.
func (p *proxy) drop(msg string, fc *frontConn) {
	bridges := p.sessionBridges()
	line := []byte("wsgate: " + msg + "\r\n")
	t := time.AfterFunc(dropWriteTimeout, func() { _ = p.user.Close() })
	for _, b := range bridges {
		b.tellUser(line)
	}
	fc.halt()
	t.Stop()
}
