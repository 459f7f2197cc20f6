package agent

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"golang.org/x/crypto/ssh"
	sshagent "golang.org/x/crypto/ssh/agent"

	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// This file plays the gateway: a yamux session over loopback TCP whose
// agent side serves streams the way tunnel.Run does (header, then
// HandleStream), and chanwire clients on it that open channels and send
// requests as the gateway does for OpenSSH.

// tunnelStream gives a yamux stream the tunnel's closing semantics: Close
// also ends local reads, CloseWrite is the FIN alone.
type tunnelStream struct{ *yamux.Stream }

func (s tunnelStream) Close() error {
	err := s.Stream.Close()
	_ = s.Stream.SetReadDeadline(time.Unix(1, 0))
	return err
}

func (s tunnelStream) CloseWrite() error { return s.Stream.Close() }

// testTunnel is one agent tunnel: the gateway's yamux side and the agent's
// accept loop.
type testTunnel struct {
	gw     *yamux.Session
	served sync.WaitGroup // the accept loop and every HandleStream call
}

func newTestTunnel(t *testing.T, a *Agent) *testTunnel {
	t.Helper()
	cc, sc := testutil.TCPPair(t)
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = nil
	cfg.Logger = discardLogger{}
	cfg.AcceptBacklog = 1024
	gw, err := yamux.Client(cc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ag, err := yamux.Server(sc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tt := &testTunnel{gw: gw}
	tt.served.Add(1)
	go func() {
		defer tt.served.Done()
		for {
			ys, err := ag.AcceptStream()
			if err != nil {
				return
			}
			s := tunnelStream{ys}
			tt.served.Add(1)
			go func() {
				defer tt.served.Done()
				_ = s.SetReadDeadline(time.Now().Add(testTimeout))
				h, err := tunnel.ReadHeader(s)
				if err != nil {
					_ = s.Close()
					return
				}
				_ = s.SetReadDeadline(time.Time{})
				a.HandleStream(s, h)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = gw.Close()
		_ = ag.Close()
		waitGroupTimeout(t, &tt.served, "agent streams")
	})
	return tt
}

type discardLogger struct{}

func (discardLogger) Print(...any)          {}
func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// open opens a stream to the agent with header h.
func (tt *testTunnel) open(h tunnel.Header) (net.Conn, error) {
	ys, err := tt.gw.OpenStream()
	if err != nil {
		return nil, fmt.Errorf("open stream: %w", err)
	}
	s := tunnelStream{ys}
	if err := tunnel.WriteHeader(s, h); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func waitGroupTimeout(t *testing.T, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Errorf("%s did not end", what)
	}
}

// testClient is one user SSH connection as the gateway relays it.
type testClient struct {
	t  *testing.T
	cw *chanwire.Conn

	// incoming gets the channels the agent asks for (forwarded-tcpip,
	// forwarded-streamlocal), except auth-agent, which keyring serves.
	incoming chan *chanwire.NewChannel

	mu      sync.Mutex
	keyring sshagent.Agent

	work sync.WaitGroup
}

// dialConn opens bob's connection "s1" on a fresh tunnel to a.
func dialConn(t *testing.T, a *Agent) *testClient {
	t.Helper()
	return dialConnAs(t, newTestTunnel(t, a), "bob", "s1")
}

// dialConnAs opens a conn stream for user with session id sid and says
// hello; a cleanup closes it.
func dialConnAs(t *testing.T, tt *testTunnel, user, sid string) *testClient {
	t.Helper()
	tc, err := connectVia(tt.open, user, sid)
	if err != nil {
		t.Fatalf("connect %s/%s: %v", user, sid, err)
	}
	tc.t = t
	t.Cleanup(tc.close)
	return tc
}

// connectVia opens the connection with open, which opens a stream with
// the given header (a test tunnel's, or a tunnel.Registry's).
func connectVia(open func(tunnel.Header) (net.Conn, error), user, sid string) (*testClient, error) {
	ctrl, err := open(tunnel.Header{Kind: tunnel.KindConn, User: user, SessionID: sid})
	if err != nil {
		return nil, err
	}
	dial := func(context.Context) (net.Conn, error) {
		return open(tunnel.Header{Kind: tunnel.KindChannel, User: user, SessionID: sid})
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cw, chans, reqs, err := chanwire.Client(ctx, ctrl, dial)
	if err != nil {
		return nil, err
	}
	tc := &testClient{cw: cw, incoming: make(chan *chanwire.NewChannel, 16)}
	tc.work.Add(2)
	go func() {
		defer tc.work.Done()
		for req := range reqs {
			_ = req.Reply(false, nil)
		}
	}()
	go func() {
		defer tc.work.Done()
		defer close(tc.incoming)
		for nc := range chans {
			if nc.ChannelType() == "auth-agent@openssh.com" {
				tc.serveAgent(nc)
				continue
			}
			select {
			case tc.incoming <- nc:
			default:
				_ = nc.Reject(chanwire.ResourceShortage, "test client busy")
			}
		}
	}()
	return tc, nil
}

func (tc *testClient) close() {
	_ = tc.cw.Close()
	<-tc.cw.Done()
	waitGroupTimeout(tc.t, &tc.work, "test client")
}

// forwardAgent serves auth-agent@openssh.com channels from keyring (ssh -A).
func (tc *testClient) forwardAgent(keyring sshagent.Agent) {
	tc.mu.Lock()
	tc.keyring = keyring
	tc.mu.Unlock()
}

func (tc *testClient) serveAgent(nc *chanwire.NewChannel) {
	tc.mu.Lock()
	keyring := tc.keyring
	tc.mu.Unlock()
	if keyring == nil {
		_ = nc.Reject(chanwire.Prohibited, "no agent")
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	tc.work.Add(2)
	go func() { defer tc.work.Done(); discardRequests(reqs) }()
	go func() {
		defer tc.work.Done()
		defer ch.Close()
		_ = sshagent.ServeAgent(keyring, ch)
	}()
}

// nextIncoming returns the next channel the agent opened toward the user.
func (tc *testClient) nextIncoming() *chanwire.NewChannel {
	tc.t.Helper()
	select {
	case nc, ok := <-tc.incoming:
		if !ok {
			tc.t.Fatal("connection ended while waiting for a channel from the agent")
		}
		return nc
	case <-time.After(testTimeout):
		tc.t.Fatal("no channel from the agent")
	}
	return nil
}

// SendRequest sends a global request.
func (tc *testClient) SendRequest(name string, wantReply bool, payload []byte) (bool, []byte, error) {
	return tc.cw.SendRequest(name, wantReply, payload)
}

// Close ends the connection, as the user's disconnect does.
func (tc *testClient) Close() { tc.close() }

// OpenChannel opens a channel; a cleanup closes it.
func (tc *testClient) OpenChannel(typ string, extra []byte) (*chanwire.Channel, error) {
	ch, reqs, err := tc.cw.OpenChannel(typ, extra)
	if err != nil {
		return nil, err
	}
	go discardRequests(reqs) // ends when the channel closes
	tc.t.Cleanup(func() { ch.Close() })
	return ch, nil
}

// Dial opens a direct-tcpip channel to addr (ssh -L); network is "tcp".
func (tc *testClient) Dial(_, addr string) (*chanwire.Channel, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var p uint32
	if _, err := fmt.Sscan(port, &p); err != nil {
		return nil, err
	}
	return tc.OpenChannel("direct-tcpip", ssh.Marshal(struct {
		DestAddr   string
		DestPort   uint32
		OriginAddr string
		OriginPort uint32
	}{host, p, "127.0.0.1", 50000}))
}

// dialUnix opens a direct-streamlocal@openssh.com channel (ssh -L to a
// unix socket).
func (tc *testClient) dialUnix(path string) (*chanwire.Channel, error) {
	return tc.OpenChannel("direct-streamlocal@openssh.com", ssh.Marshal(struct {
		SocketPath string
		Reserved0  string
		Reserved1  uint32
	}{path, "", 0}))
}
