package sshfront

import (
	"io"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// bridge is one channel proxied between the user and the agent, whichever
// side opened it. The agent's frames run through the bridge (a
// chanwire.Handler) on one goroutine, so the user sees them in the agent's
// order: output, EOF, then the exit status. The user's side takes one
// goroutine for data and one for requests (plus a worker while requests
// wait to be forwarded).
type bridge struct {
	p       *proxy
	kind    string
	session bool
	user    ssh.Channel
	agent   *chanwire.Channel
	// exited is set once the agent's exit-status or exit-signal went out.
	exited atomic.Bool
	// final is closed once the user channel was closed by the gateway.
	final chan struct{}
	// eofMu orders the user side's EOF against notices written from other
	// goroutines: x/crypto reads a channel's "EOF sent" flag without a lock,
	// and nothing may be written after an EOF anyway.
	eofMu   sync.Mutex
	eofSent bool
	// userLeft is set once the user's side of the channel has closed.
	userLeft atomic.Bool
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

func (p *proxy) bridge(kind string, uch ssh.Channel, ureqs <-chan *ssh.Request, ach *chanwire.Channel) {
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
	b.run(ureqs)
}

func (b *bridge) run(ureqs <-chan *ssh.Request) {
	var wg sync.WaitGroup
	// Up: the user's data, then EOF (half-close kept).
	upCopied := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(b.agent, b.user) // chanwire's ReadFrom: no idle buffer
		_ = b.agent.CloseWrite()
		close(upCopied)
	}()
	// Up: the user's requests. Reading never waits (window-change is
	// coalesced); forwarding pipelines them, replies come back in order
	// through the agent's frames.
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		q := newWorkQueue(b.forwardQueued)
		for r := range ureqs {
			if b.handleLocally(r) {
				continue
			}
			b.rewrite(r)
			q.push(r)
		}
		b.userLeft.Store(true)
		q.closeWait()
		// The user closed the channel (or left): once what they sent
		// before is through, close the agent's side so it ends whatever
		// it runs there.
		<-upCopied
		_ = b.agent.Close()
	}()

	// Down, on this goroutine, until the agent's side ends.
	err := b.agent.Serve(b)
	if err != nil {
		b.p.log.Debug("agent channel ended", "kind", b.kind, "err", err)
	}
	if b.session && !b.exited.Load() && !b.userLeft.Load() && b.p.agentLost(lostWait) {
		ws := b.p.info.Workspace.String()
		b.tellUser([]byte("wsgate: connection to workspace " + ws + " lost\r\n"))
	}
	_ = b.user.Close()
	close(b.final)
	<-upDone
	wg.Wait()
	_ = b.agent.Close()
}

// forwardQueued takes the user's requests in order: agent forwarding is
// weighed first (agentfwd.go), everything else goes to the agent.
func (b *bridge) forwardQueued(r *ssh.Request) {
	if r.Type == "auth-agent-req@openssh.com" {
		b.forwardAgentRequest(r)
		return
	}
	b.forwardUserRequest(r)
}

// forwardUserRequest sends a user request to the agent without waiting
// for the reply, which is relayed when it comes (in order).
func (b *bridge) forwardUserRequest(r *ssh.Request) {
	var done chanwire.ReplyFunc
	if r.WantReply {
		done = func(ok bool, _ []byte, closed bool) { _ = r.Reply(ok && !closed, nil) }
	}
	if err := b.agent.SendRequestFunc(r.Type, r.WantReply, r.Payload, done); err != nil {
		replyIfWanted(r, false, nil)
	}
}

// Data, Stderr, EOF and Request take the agent's frames (chanwire.Handler).

func (b *bridge) Data(p []byte) error {
	_, err := b.user.Write(p)
	return err
}

func (b *bridge) Stderr(p []byte) error {
	_, err := b.user.Stderr().Write(p)
	return err
}

func (b *bridge) EOF() { b.userEOF() }

func (b *bridge) Request(r *chanwire.Request) {
	switch r.Type {
	case "exit-status", "exit-signal":
		// Like sshd: the output, then the exit status (this runs after
		// every data frame before it was written to the user).
		if _, err := b.user.SendRequest(r.Type, false, r.Payload); err == nil {
			b.exited.Store(true)
		}
		_ = r.Reply(false, nil)
	default:
		// eow@openssh.com and the like: relayed as they are. The agent
		// sends nothing that wants a reply; should it, the user's answer
		// is relayed.
		ok, _ := b.user.SendRequest(r.Type, r.WantReply, r.Payload)
		_ = r.Reply(ok, nil)
	}
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
		// Decided in order with the session's other requests, before a
		// shell could start with the socket (forwardQueued).
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
