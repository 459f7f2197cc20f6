package sshfront

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/gateway/internal/sessions"
)

// Bounds on how long the proxy waits for a slow user before closing anyway.
const (
	// lostFlushTimeout: after the agent is lost, how long sessions get to
	// copy the agent's last output and show the message.
	lostFlushTimeout = 5 * time.Second
	// dropWriteTimeout: how long Drop waits for its message to be written.
	dropWriteTimeout = 2 * time.Second
)

// proxy bridges one authenticated user connection to one SSH connection to
// the workspace's agent, channel by channel.
type proxy struct {
	info  sessions.Info
	id    identity
	user  *ssh.ServerConn
	agent ssh.Conn
	log   *slog.Logger
	state *connState

	// lost is set when the agent's stream fails before the gateway itself
	// closed it; sessions then tell the user the connection was lost.
	lost atomic.Bool
	// closingAgent is set before the gateway closes the agent connection.
	closingAgent atomic.Bool
	// Channels the agent may open toward the user only once the user asked
	// for them, so that an agent cannot open what the user never enabled.
	remoteForwardOK atomic.Bool
	agentForwardOK  atomic.Bool

	mu      sync.Mutex
	bridges map[*bridge]struct{}
	wg      sync.WaitGroup
}

// lossConn marks the proxy's agent as lost when the stream fails under it.
// x/crypto drops every channel right after its read loop fails, so setting
// the flag here, before the error is returned, guarantees that each channel
// sees it when it finds its agent side gone.
type lossConn struct {
	net.Conn
	p *proxy
}

func (c *lossConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		c.p.markLost()
	}
	return n, err
}

func (c *lossConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.p.markLost()
	}
	return n, err
}

func (p *proxy) markLost() {
	if !p.closingAgent.Load() {
		p.lost.Store(true)
	}
}

func (p *proxy) closeAgent() {
	p.closingAgent.Store(true)
	_ = p.agent.Close()
}

// run serves the connection until either side ends it.
func (p *proxy) run(userChans <-chan ssh.NewChannel, userReqs <-chan *ssh.Request,
	agentChans <-chan ssh.NewChannel, agentReqs <-chan *ssh.Request) {
	p.goFn(func() { p.userChannels(userChans) })
	p.goFn(func() { p.agentChannels(agentChans) })
	p.goFn(func() { p.userGlobalRequests(userReqs) })
	p.goFn(func() { rejectRequests(agentReqs) })

	userDone := make(chan struct{})
	agentDone := make(chan struct{})
	p.goFn(func() { _ = p.user.Wait(); close(userDone) })
	p.goFn(func() { _ = p.agent.Wait(); close(agentDone) })

	select {
	case <-userDone:
		p.closeAgent()
	case <-agentDone:
		if p.lost.Load() {
			p.log.Warn("ssh agent connection lost")
		}
		// Give every session the time to copy the agent's last output and
		// show why it ends, then end the user's connection.
		p.waitBridgesFinal(lostFlushTimeout)
		_ = p.user.Close()
	}
	<-userDone
	<-agentDone
	p.wg.Wait()
}

func (p *proxy) goFn(f func()) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// userChannels opens each channel the user asks for on the agent.
func (p *proxy) userChannels(chans <-chan ssh.NewChannel) {
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
		case "direct-tcpip":
			if p.id.NoPortForward {
				_ = nc.Reject(ssh.Prohibited, "port forwarding is not permitted")
				continue
			}
		default:
			_ = nc.Reject(ssh.UnknownChannelType, fmt.Sprintf("channel type %q is not supported", nc.ChannelType()))
			continue
		}
		// Opening waits for the agent; never hold up the user's other channels.
		p.goFn(func() { p.openOnAgent(nc) })
	}
}

func (p *proxy) openOnAgent(nc ssh.NewChannel) {
	ach, areqs, err := p.agent.OpenChannel(nc.ChannelType(), nc.ExtraData())
	if err != nil {
		rejectLike(nc, err)
		return
	}
	uch, ureqs, err := nc.Accept()
	if err != nil {
		_ = ach.Close()
		go ssh.DiscardRequests(areqs)
		return
	}
	p.bridge(nc.ChannelType(), uch, ureqs, ach, areqs)
}

// agentChannels opens on the user's side the channels the agent opens for
// remote forwarding and agent forwarding, once the user asked for them.
func (p *proxy) agentChannels(chans <-chan ssh.NewChannel) {
	for nc := range chans {
		switch nc.ChannelType() {
		case "forwarded-tcpip":
			if !p.remoteForwardOK.Load() {
				_ = nc.Reject(ssh.Prohibited, "no remote forwarding was requested")
				continue
			}
		case "auth-agent@openssh.com":
			if !p.agentForwardOK.Load() {
				_ = nc.Reject(ssh.Prohibited, "no agent forwarding was requested")
				continue
			}
		default:
			_ = nc.Reject(ssh.UnknownChannelType, fmt.Sprintf("channel type %q is not supported", nc.ChannelType()))
			continue
		}
		p.goFn(func() { p.openOnUser(nc) })
	}
}

func (p *proxy) openOnUser(nc ssh.NewChannel) {
	uch, ureqs, err := p.user.OpenChannel(nc.ChannelType(), nc.ExtraData())
	if err != nil {
		rejectLike(nc, err)
		return
	}
	ach, areqs, err := nc.Accept()
	if err != nil {
		_ = uch.Close()
		go ssh.DiscardRequests(ureqs)
		return
	}
	p.bridge(nc.ChannelType(), uch, ureqs, ach, areqs)
}

// rejectLike rejects nc with the reason the other side gave, or as a
// connection failure.
func rejectLike(nc ssh.NewChannel, err error) {
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) {
		_ = nc.Reject(oce.Reason, oce.Message)
		return
	}
	_ = nc.Reject(ssh.ConnectionFailed, "workspace agent unavailable")
}

// userGlobalRequests forwards remote-forwarding requests to the agent, with
// the reply (and its payload: the chosen port) relayed back, and answers
// everything else (keepalive@openssh.com included) with a failure, as
// OpenSSH does for requests it does not know. Replies go out in request
// order, as the protocol requires.
func (p *proxy) userGlobalRequests(reqs <-chan *ssh.Request) {
	q := newReqQueue()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			r, ok := q.pop()
			if !ok {
				return
			}
			p.globalRequest(r)
		}
	}()
	for r := range reqs {
		q.push(r)
	}
	q.close()
	<-done
}

func (p *proxy) globalRequest(r *ssh.Request) {
	switch r.Type {
	case "tcpip-forward", "cancel-tcpip-forward":
		if p.id.NoPortForward {
			replyIfWanted(r, false, nil)
			return
		}
		ok, payload, err := p.agent.SendRequest(r.Type, r.WantReply, r.Payload)
		if err != nil {
			ok, payload = false, nil
		}
		if r.Type == "tcpip-forward" && err == nil && (ok || !r.WantReply) {
			p.remoteForwardOK.Store(true)
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

// drop writes "wsgate: msg" on the stderr of every open session and closes
// the user's connection.
func (p *proxy) drop(msg string) {
	bridges := p.sessionBridges()
	line := []byte("wsgate: " + msg + "\r\n")
	done := make(chan struct{})
	// A user who does not read could block the write forever; closing the
	// connection below unblocks it.
	go func() {
		defer close(done)
		for _, b := range bridges {
			b.tellUser(line)
		}
	}()
	t := time.NewTimer(dropWriteTimeout)
	select {
	case <-done:
	case <-t.C:
	}
	t.Stop()
	p.log.Info("ssh session dropped", "reason", msg)
	_ = p.user.Close()
	<-done
}

// bridge is one channel proxied between the user and the agent, whichever
// side opened it.
type bridge struct {
	p       *proxy
	kind    string
	session bool
	user    ssh.Channel
	agent   ssh.Channel
	// exited is set once the agent's exit-status or exit-signal went out.
	exited atomic.Bool
	// replying is held while a user request is at the agent and its reply
	// on its way back. The agent answers a request before it acts on it
	// (runs the command, then exits and closes), but the reply and what
	// follows it travel through different goroutines here; waiting on
	// replying keeps the exit status and the close behind the reply, as the
	// user's client expects.
	replying sync.Mutex
	// final is closed once the user channel was closed by the gateway.
	final chan struct{}
	// eofMu orders the user side's EOF against notices written from other
	// goroutines: x/crypto reads a channel's "EOF sent" flag without a lock,
	// and nothing may be written after an EOF anyway.
	eofMu   sync.Mutex
	eofSent bool
}

// tellUser writes line on the user's stderr unless the user's side is
// already at EOF.
func (b *bridge) tellUser(line []byte) {
	b.eofMu.Lock()
	defer b.eofMu.Unlock()
	if !b.eofSent {
		_, _ = b.user.Stderr().Write(line)
	}
}

// userEOF sends EOF to the user once.
func (b *bridge) userEOF() {
	b.eofMu.Lock()
	defer b.eofMu.Unlock()
	if !b.eofSent {
		b.eofSent = true
		_ = b.user.CloseWrite()
	}
}

func (p *proxy) bridge(kind string, uch ssh.Channel, ureqs <-chan *ssh.Request, ach ssh.Channel, areqs <-chan *ssh.Request) {
	b := &bridge{p: p, kind: kind, session: kind == "session", user: uch, agent: ach, final: make(chan struct{})}
	p.mu.Lock()
	if p.bridges == nil {
		p.bridges = map[*bridge]struct{}{}
	}
	p.bridges[b] = struct{}{}
	p.mu.Unlock()
	p.state.openChannels.Add(1)
	defer func() {
		p.mu.Lock()
		delete(p.bridges, b)
		p.mu.Unlock()
		p.state.channelClosed()
	}()
	b.run(ureqs, areqs)
}

func (b *bridge) run(ureqs, areqs <-chan *ssh.Request) {
	var wg sync.WaitGroup
	spawn := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}

	// Data: each direction copies data and extended data (stderr); when
	// both end the other side gets EOF, so half-close is kept.
	upCopied, downCopied := make(chan struct{}), make(chan struct{})
	spawn(func() {
		copyData(b.agent, b.user)
		_ = b.agent.CloseWrite()
		close(upCopied)
	})
	spawn(func() {
		copyData(b.user, b.agent)
		// No EOF when the agent is lost: nothing may follow an EOF, and
		// the user is about to read why the session ends. The flag is set
		// before x/crypto drops the agent's channels, so it is accurate
		// here.
		if !b.p.lost.Load() {
			b.userEOF()
		}
		close(downCopied)
	})

	// Requests, in order, both ways.
	upQ, downQ := newReqQueue(), newReqQueue()
	upForwarded, downForwarded := make(chan struct{}), make(chan struct{})
	spawn(func() {
		for r := range ureqs {
			if b.handleLocally(r) {
				continue
			}
			b.rewrite(r)
			upQ.push(r)
		}
		upQ.close()
		// The user closed the channel (or left): once what they sent
		// before is through, close the agent's side so it ends whatever
		// it runs there.
		<-upCopied
		<-upForwarded
		_ = b.agent.Close()
	})
	spawn(func() {
		forwardRequests(upQ, b.agent, &b.replying, nil, nil)
		close(upForwarded)
	})
	spawn(func() {
		for r := range areqs {
			downQ.push(r)
		}
		downQ.close()
	})
	spawn(func() {
		forwardRequests(downQ, b.user, nil, func(r *ssh.Request) {
			if isExit(r) {
				// Like sshd: the output, then the exit status.
				<-downCopied
				b.waitReplies()
			}
		}, func(r *ssh.Request) {
			if isExit(r) {
				b.exited.Store(true)
			}
		})
		close(downForwarded)
	})

	// Close the user's channel only once the agent's is closed, its exit
	// status went out and its output was fully copied; downForwarded implies
	// the agent's channel is closed, because its request channel only
	// closes then.
	<-downForwarded
	<-downCopied
	// The agent's side is closed, so a request still at it fails at once.
	b.waitReplies()
	if b.session && b.p.lost.Load() && !b.exited.Load() {
		ws := b.p.info.Workspace.String()
		b.tellUser([]byte("wsgate: connection to workspace " + ws + " lost\r\n"))
	}
	_ = b.user.Close()
	close(b.final)
	wg.Wait()
}

// copyData copies data and extended data (stderr) from src to dst until
// src's EOF or close.
func copyData(dst, src ssh.Channel) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(dst.Stderr(), src.Stderr())
	}()
	_, _ = io.Copy(dst, src)
	wg.Wait()
}

// forwardRequests sends queued requests to dst one at a time and relays
// each reply. inFlight, when set, is held from sending a request that wants
// a reply until the reply is relayed. before, when set, runs before a
// request is sent; after, when set, once it went out.
func forwardRequests(q *reqQueue, dst ssh.Channel, inFlight *sync.Mutex, before, after func(*ssh.Request)) {
	for {
		r, ok := q.pop()
		if !ok {
			return
		}
		if before != nil {
			before(r)
		}
		hold := inFlight != nil && r.WantReply
		if hold {
			inFlight.Lock()
		}
		ok, err := dst.SendRequest(r.Type, r.WantReply, r.Payload)
		replyIfWanted(r, ok && err == nil, nil)
		if hold {
			inFlight.Unlock()
		}
		if after != nil && err == nil {
			after(r)
		}
	}
}

// waitReplies waits until no reply to a user request is on its way.
func (b *bridge) waitReplies() {
	b.replying.Lock()
	//nolint:staticcheck // an empty critical section: only the wait matters
	b.replying.Unlock()
}

// handleLocally answers user requests the gateway refuses by itself; it
// reports whether r was answered.
func (b *bridge) handleLocally(r *ssh.Request) bool {
	id := b.p.id
	switch r.Type {
	case "pty-req":
		if id.NoPTY {
			replyIfWanted(r, false, nil)
			return true
		}
	case "x11-req":
		// X11 forwarding channels are not proxied.
		replyIfWanted(r, false, nil)
		return true
	case "auth-agent-req@openssh.com":
		if id.NoAgentForward {
			replyIfWanted(r, false, nil)
			return true
		}
		b.p.agentForwardOK.Store(true)
	}
	return false
}

// rewrite applies a certificate's force-command: whatever the user asks to
// run (shell, command or subsystem) runs the forced command instead.
func (b *bridge) rewrite(r *ssh.Request) {
	if !b.p.id.HasForce {
		return
	}
	switch r.Type {
	case "shell", "exec", "subsystem":
		r.Type = "exec"
		r.Payload = ssh.Marshal(struct{ Command string }{b.p.id.ForceCommand})
	}
}

func isExit(r *ssh.Request) bool { return r.Type == "exit-status" || r.Type == "exit-signal" }
