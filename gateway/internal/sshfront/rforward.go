package sshfront

import (
	"sync"

	"github.com/wsgate/wsgate/internal/tlsconf"
	"golang.org/x/crypto/ssh"
)

// Remote forwarding (ssh -R) listens on loopback unless the workspace's
// remote-forward-bind setting is "any", like sshd's GatewayPorts no. The
// agent binds what it is asked and stays policy-free: the gateway asks it
// for 127.0.0.1 instead of the client's address. The OpenSSH client
// matches each forwarded-tcpip channel to its forward by the listen
// address it asked for, so the gateway remembers, per bound port, the
// address the client asked for, writes it back into the agent's
// forwarded-tcpip opens, and translates cancel-tcpip-forward the other way.

// loopbackBindAddr is where narrowed listeners bind. IPv4 only, as the
// agent binds "localhost".
const loopbackBindAddr = "127.0.0.1"

// narrowBind returns the address to ask the agent for instead of addr,
// and false when addr is loopback already ("localhost", 127/8, ::1).
// Everything else, "" and "*" (every address), 0.0.0.0, ::, host names
// and other interfaces' addresses, is narrowed.
func narrowBind(addr string) (string, bool) {
	if tlsconf.IsLoopbackHost(addr) {
		return addr, false
	}
	return loopbackBindAddr, true
}

// tcpipForward is the payload of tcpip-forward and cancel-tcpip-forward.
type tcpipForward struct {
	Addr string
	Port uint32
}

// forwardedTCPIP is the extra data of a forwarded-tcpip channel open.
type forwardedTCPIP struct {
	Addr       string
	Port       uint32
	OriginAddr string
	OriginPort uint32
}

// remoteBinds maps each narrowed listener's bound port to the address the
// client asked for.
type remoteBinds struct {
	mu    sync.Mutex
	asked map[uint32]string
}

func (m *remoteBinds) add(port uint32, asked string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.asked == nil {
		m.asked = map[uint32]string{}
	}
	m.asked[port] = asked
}

// lookup reports the address asked for the listener narrowed on port.
func (m *remoteBinds) lookup(port uint32) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.asked[port]
	return a, ok
}

func (m *remoteBinds) remove(port uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.asked, port)
}

// sendTCPIPForward relays a tcpip-forward or cancel-tcpip-forward,
// narrowed to loopback unless the workspace allows any address, and
// returns the agent's answer.
func (p *proxy) sendTCPIPForward(r *ssh.Request) (bool, []byte, error) {
	var fwd tcpipForward
	if err := ssh.Unmarshal(r.Payload, &fwd); err != nil || fwd.Port > 65535 {
		return false, nil, nil
	}
	if r.Type == "cancel-tcpip-forward" {
		asked, ok := p.binds.lookup(fwd.Port)
		if !ok || asked != fwd.Addr {
			return p.agent.SendRequest(r.Type, r.WantReply, r.Payload)
		}
		ok, payload, err := p.agent.SendRequest(r.Type, true, ssh.Marshal(tcpipForward{loopbackBindAddr, fwd.Port}))
		if err == nil && ok {
			p.binds.remove(fwd.Port)
		}
		return ok, payload, err
	}
	bind, narrowed := narrowBind(fwd.Addr)
	if narrowed && p.bindsAny() {
		narrowed = false
	}
	if !narrowed {
		return p.agent.SendRequest(r.Type, r.WantReply, r.Payload)
	}
	// A reply is needed either way: it says whether, and on which port,
	// the listener was bound.
	ok, payload, err := p.agent.SendRequest(r.Type, true, ssh.Marshal(tcpipForward{bind, fwd.Port}))
	if err != nil || !ok {
		return ok, payload, err
	}
	port := fwd.Port
	if port == 0 {
		var got struct{ Port uint32 }
		if ssh.Unmarshal(payload, &got) != nil {
			return false, nil, nil
		}
		port = got.Port
	}
	p.binds.add(port, fwd.Addr)
	p.log.Info("ssh -R bound to loopback", "asked", fwd.Addr, "port", port,
		"why", "the workspace's remote-forward-bind is loopback")
	return ok, payload, nil
}

// bindsAny reads the workspace's setting; failing to read it keeps the
// listener on loopback.
func (p *proxy) bindsAny() bool {
	if p.policy == nil {
		return false
	}
	s, err := p.policy.Settings(p.ctx, p.info.Workspace, p.info.WorkspaceUID)
	if err != nil {
		p.log.Warn("cannot read workspace settings; ssh -R stays on loopback", "err", err)
		return false
	}
	return s.BindsAny()
}

// restoreForwardedAddr rewrites a forwarded-tcpip open of a narrowed
// listener to name the address the client asked for.
func (p *proxy) restoreForwardedAddr(extra []byte) []byte {
	var d forwardedTCPIP
	if ssh.Unmarshal(extra, &d) != nil || d.Addr != loopbackBindAddr {
		return extra
	}
	asked, ok := p.binds.lookup(d.Port)
	if !ok {
		return extra
	}
	d.Addr = asked
	return ssh.Marshal(d)
}
