package tunnel

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/wsgate/wsgate/internal/testutil"
)

const wsKey = "alice/alice-ws"

// roundTrip opens a stream with h, checks the agent saw h, sends size random
// bytes, half-closes, and checks the same bytes come back followed by EOF.
func roundTrip(t *testing.T, reg *Registry, h Header, size int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := reg.Open(ctx, wsKey, h)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))

	want := fmt.Sprintf("%s %s %s %d", h.Kind, h.User, h.SessionID, h.Port)
	line, err := readLineErr(conn)
	if err != nil {
		return err
	}
	if line != want {
		return fmt.Errorf("agent saw header %q, want %q", line, want)
	}

	payload := make([]byte, size)
	_, _ = rand.Read(payload)
	writeErr := make(chan error, 1)
	go func() {
		if _, err := conn.Write(payload); err != nil {
			writeErr <- err
			return
		}
		writeErr <- CloseWrite(conn) // the agent's echo ends on this EOF
	}()
	got, err := io.ReadAll(conn) // ends with the agent's own half-close
	if err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if err := <-writeErr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if !bytes.Equal(got, payload) {
		return fmt.Errorf("echo differs: got %d bytes, sent %d", len(got), len(payload))
	}
	return nil
}

func readLineErr(r io.Reader) (string, error) {
	var sb strings.Builder
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			return sb.String(), fmt.Errorf("read line: %w", err)
		}
		if b[0] == '\n' {
			return sb.String(), nil
		}
		sb.WriteByte(b[0])
	}
}

func TestEndToEndStreamsBothWays(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok-a", wsKey).auth)
	a := startAgent(t, g.url, "tok-a", nil)
	a.waitConnect(t)
	testutil.Eventually(t, "gateway registers the tunnel", func() bool { return g.reg.Connected(wsKey) })

	headers := []Header{
		{Kind: KindSSH, User: "alice", SessionID: "s-1"},
		{Kind: KindTCP, User: "bob", SessionID: "s-2", Port: 8080},
	}
	for i := range 6 { // several streams at once over one tunnel
		headers = append(headers, Header{Kind: KindSSH, User: "carol", SessionID: fmt.Sprintf("c-%d", i)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(headers))
	for _, h := range headers {
		wg.Go(func() {
			if err := roundTrip(t, g.reg, h, 1<<20); err != nil {
				errs <- fmt.Errorf("%s stream %s: %w", h.Kind, h.SessionID, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := g.events.list(); len(got) != 1 || got[0] != "connect "+wsKey {
		t.Errorf("registry events = %q, want one connect", got)
	}
}

func TestUnauthorizedAgentRetriesUntilAccepted(t *testing.T) {
	const secret = "agent-token-s3cr3t"
	toks := newTokens()
	g := startGateway(t, "127.0.0.1:0", toks.auth)
	a := startAgent(t, g.url, secret, nil)

	testutil.Eventually(t, "two rejected attempts", func() bool {
		return strings.Count(a.logs.String(), "rejected the agent token (HTTP 401)") >= 2
	})
	if g.reg.Connected(wsKey) || len(g.events.list()) != 0 {
		t.Fatalf("a rejected agent got registered: %q", g.events.list())
	}
	toks.set(secret, wsKey)
	a.waitConnect(t)
	testutil.Eventually(t, "gateway registers the tunnel", func() bool { return g.reg.Connected(wsKey) })
	if err := roundTrip(t, g.reg, Header{Kind: KindSSH, User: "alice"}, 1024); err != nil {
		t.Fatal(err)
	}
	for name, logs := range map[string]string{"agent": a.logs.String(), "gateway": g.logs.String()} {
		if strings.Contains(logs, secret) {
			t.Errorf("%s logs contain the token:\n%s", name, logs)
		}
	}
}

func TestAgentReconnectsWhenGatewayComesBack(t *testing.T) {
	toks := newTokens("tok", wsKey)
	g1 := startGateway(t, "127.0.0.1:0", toks.auth)
	a := startAgent(t, g1.url, "tok", nil)
	a.waitConnect(t)
	testutil.Eventually(t, "tunnel on g1", func() bool { return g1.reg.Connected(wsKey) })
	if err := roundTrip(t, g1.reg, Header{Kind: KindSSH, User: "alice"}, 4096); err != nil {
		t.Fatal(err)
	}

	g1.stop()
	testutil.Eventually(t, "agent notices and retries against a dead address", func() bool {
		logs := a.logs.String()
		return strings.Contains(logs, "tunnel lost") &&
			strings.Count(logs, "cannot connect to the gateway") >= 2
	})

	g2 := startGateway(t, g1.addr, toks.auth) // same address
	a.waitConnect(t)
	testutil.Eventually(t, "tunnel on g2", func() bool { return g2.reg.Connected(wsKey) })
	if err := roundTrip(t, g2.reg, Header{Kind: KindTCP, User: "alice", Port: 3000}, 4096); err != nil {
		t.Fatal(err)
	}
}

// A second agent of a workspace whose tunnel is alive is refused, and the
// first keeps serving: a copied token must not take the workspace over.
// Once the first agent is gone, the second gets in.
func TestSecondAgentRefusedWhileFirstAlive(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok", wsKey).auth)
	first := startAgent(t, g.url, "tok", nil)
	first.waitConnect(t)
	testutil.Eventually(t, "first tunnel registered", func() bool { return g.reg.Connected(wsKey) })

	second := startAgent(t, g.url, "tok", nil)
	testutil.Eventually(t, "second agent told why", func() bool {
		return strings.Contains(second.logs.String(), "409 Conflict") &&
			strings.Contains(second.logs.String(), "another agent is connected for this workspace")
	})
	msg, _, ok := g.reg.LastRefusal(wsKey)
	if !ok || !strings.Contains(msg, "a second agent from 127.0.0.1:") || !strings.Contains(msg, "while the agent from 127.0.0.1:") {
		t.Fatalf("LastRefusal = %q, %v; want both agents' addresses", msg, ok)
	}
	if !strings.Contains(g.logs.String(), "second agent refused") {
		t.Fatalf("gateway did not log the refusal:\n%s", g.logs.String())
	}
	if err := roundTrip(t, g.reg, Header{Kind: KindSSH, User: "bob", SessionID: "to-first"}, 2048); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-first.streams:
		if h.SessionID != "to-first" {
			t.Fatalf("first agent got %+v", h)
		}
	default:
		t.Fatal("stream did not reach the first agent")
	}
	if len(second.streams) != 0 || len(second.connects) != 0 {
		t.Fatal("the second agent got a tunnel")
	}
	if got := g.events.list(); fmt.Sprint(got) != fmt.Sprint([]string{"connect " + wsKey}) {
		t.Fatalf("events = %q, want only the first connect", got)
	}

	first.stop(t)
	second.waitConnect(t)
	want := []string{"connect " + wsKey, "disconnect " + wsKey, "connect " + wsKey}
	testutil.Eventually(t, "second agent in", func() bool { return fmt.Sprint(g.events.list()) == fmt.Sprint(want) })
	if _, _, ok := g.reg.LastTakeover(wsKey); ok {
		t.Fatal("an orderly handover recorded as a takeover")
	}
}

// A tunnel whose agent went silent (its machine died without closing the
// connection) is replaced by the next agent once it was silent for
// TakeoverAfter and missed a ping, and the owner can see that it happened.
func TestSilentTunnelTakenOver(t *testing.T) {
	g := startGatewayWith(t, "127.0.0.1:0", newTokens("tok", wsKey).auth, func(c *RegistryConfig) {
		c.TakeoverAfter = 300 * time.Millisecond
		c.takeoverPing = 100 * time.Millisecond
		c.KeepAliveInterval = time.Hour // nothing but the takeover notices the silence
	})
	dead := dialSilentAgent(t, g.url, "tok")
	defer dead.Close()
	testutil.Eventually(t, "silent tunnel registered", func() bool { return g.reg.Connected(wsKey) })

	newer := startAgent(t, g.url, "tok", nil)
	newer.waitConnect(t)
	if err := roundTrip(t, g.reg, Header{Kind: KindSSH, User: "bob", SessionID: "to-newer"}, 2048); err != nil {
		t.Fatal(err)
	}
	msg, _, ok := g.reg.LastTakeover(wsKey)
	if !ok || !strings.Contains(msg, "was silent for") || !strings.Contains(msg, "replaced by an agent from 127.0.0.1:") {
		t.Fatalf("LastTakeover = %q, %v", msg, ok)
	}
	want := []string{"connect " + wsKey, "disconnect " + wsKey, "connect " + wsKey}
	testutil.Eventually(t, "replacement events", func() bool { return fmt.Sprint(g.events.list()) == fmt.Sprint(want) })
}

func TestDisconnectThenClose(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok", wsKey).auth)
	a := startAgent(t, g.url, "tok", nil)
	a.waitConnect(t)
	testutil.Eventually(t, "tunnel registered", func() bool { return g.reg.Connected(wsKey) })

	g.reg.Disconnect(wsKey)
	if g.reg.Connected(wsKey) {
		t.Fatal("Connected right after Disconnect")
	}
	testutil.Eventually(t, "OnDisconnect", func() bool { return g.events.count("disconnect "+wsKey) == 1 })
	a.waitConnect(t) // the agent comes back by itself
	testutil.Eventually(t, "tunnel registered again", func() bool { return g.reg.Connected(wsKey) })
	if err := roundTrip(t, g.reg, Header{Kind: KindSSH, User: "alice"}, 1024); err != nil {
		t.Fatal(err)
	}

	if err := g.reg.Close(); err != nil {
		t.Fatal(err)
	}
	// Close waited for the tunnel's end, callbacks included.
	if got := g.events.list(); len(got) != 4 || got[3] != "disconnect "+wsKey {
		t.Fatalf("events after Close = %q", got)
	}
	if g.reg.Connected(wsKey) {
		t.Fatal("Connected after Close")
	}
	if _, err := g.reg.Open(context.Background(), wsKey, Header{Kind: KindSSH, User: "a"}); !errors.Is(err, ErrAgentNotConnected) {
		t.Fatalf("Open after Close = %v, want ErrAgentNotConnected", err)
	}
	testutil.Eventually(t, "closed registry refuses the agent", func() bool {
		return strings.Contains(a.logs.String(), "503 Service Unavailable")
	})
	if n := g.events.count("connect " + wsKey); n != 2 {
		t.Fatalf("%d connects, want 2", n)
	}
}

func TestBadHeaderClosesOnlyThatStream(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok", wsKey).auth)
	a := startAgent(t, g.url, "tok", func(c *ClientConfig) { c.headerTimeout = 200 * time.Millisecond })
	a.waitConnect(t)
	testutil.Eventually(t, "tunnel registered", func() bool { return g.reg.Connected(wsKey) })
	tun := g.reg.lookup(wsKey)

	good, err := Header{Kind: KindSSH, User: "alice"}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	badVersion := bytes.Clone(good)
	badVersion[2] = 9
	badKind := bytes.Clone(good)
	badKind[3] = 7
	cases := map[string][]byte{
		"garbage":       []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"oversize":      append([]byte{0xff, 0xff}, bytes.Repeat([]byte{'a'}, 64)...),
		"bad version":   badVersion,
		"unknown kind":  badKind,
		"truncated":     good[:len(good)-2],
		"silent stream": nil, // only the header deadline ends it
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := tun.sess.OpenStream()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if len(raw) > 0 {
				if _, err := s.Write(raw); err != nil {
					t.Fatal(err)
				}
			}
			_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := s.Read(make([]byte, 1))
			if n != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("read = %d, %v; want the agent to close the stream (EOF)", n, err)
			}
		})
	}
	// The tunnel survived every bad stream.
	if err := roundTrip(t, g.reg, Header{Kind: KindTCP, User: "alice", Port: 22}, 4096); err != nil {
		t.Fatal(err)
	}
	if got := g.events.list(); len(got) != 1 || len(a.connects) != 0 {
		t.Fatalf("tunnel was re-established: events %q, extra agent connects %d", got, len(a.connects))
	}
	if n := strings.Count(a.logs.String(), `level=WARN msg="closing stream with a bad header"`); n != len(cases) {
		t.Fatalf("%d warnings for %d bad streams; logs:\n%s", n, len(cases), a.logs.String())
	}
	if n := len(a.streams); n != 1 {
		t.Fatalf("handler called %d times, want once (the good stream)", n)
	}
}

func TestOpenWithoutAgent(t *testing.T) {
	reg := NewRegistry(RegistryConfig{})
	defer reg.Close()
	_, err := reg.Open(context.Background(), wsKey, Header{Kind: KindSSH, User: "alice"})
	if !errors.Is(err, ErrAgentNotConnected) {
		t.Fatalf("Open = %v, want ErrAgentNotConnected", err)
	}
	if reg.Connected(wsKey) {
		t.Fatal("Connected without an agent")
	}
	_, err = reg.Open(context.Background(), wsKey, Header{Kind: KindTCP, User: "alice"})
	if !errors.Is(err, ErrBadHeader) {
		t.Fatalf("Open with a port-less tcp header = %v, want ErrBadHeader", err)
	}
	reg.Disconnect(wsKey) // no tunnel: a no-op
}

func TestStreamCloseEndsBothDirections(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok", wsKey).auth)
	a := startAgent(t, g.url, "tok", nil)
	a.waitConnect(t)
	testutil.Eventually(t, "tunnel registered", func() bool { return g.reg.Connected(wsKey) })

	conn, err := g.reg.Open(context.Background(), wsKey, Header{Kind: KindSSH, User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	readLine(t, conn)
	if _, ok := conn.(HalfCloser); !ok {
		t.Fatal("stream is not a HalfCloser")
	}
	readErr := make(chan error, 1)
	go func() {
		_, err := conn.Read(make([]byte, 1)) // blocks: the agent sends nothing more
		readErr <- err
	}()
	// yamux alone would keep this read blocked until the agent closes too.
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("blocked read after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock a pending read")
	}
	if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close = %v, want net.ErrClosed", err)
	}
	if err := conn.SetReadDeadline(time.Time{}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("SetReadDeadline after Close = %v, want net.ErrClosed", err)
	}
	// The agent's echo saw EOF and closed its end: the stream is gone.
	testutil.Eventually(t, "stream freed on both ends", func() bool {
		return g.reg.lookup(wsKey).sess.NumStreams() == 0
	})
}

func TestGatewayRefusesStreamsFromTheAgent(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok", wsKey).auth)
	conn, err := dial(context.Background(), mustEndpoint(t, g.url), "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := yamux.Client(conn, yamuxConfig(time.Minute, (&logBuffer{}).logger()))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	testutil.Eventually(t, "tunnel registered", func() bool { return g.reg.Connected(wsKey) })
	s, err := sess.OpenStream()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	_ = s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := s.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read = %d, %v; want the gateway to close the stream", n, err)
	}
	if !g.reg.Connected(wsKey) {
		t.Fatal("the tunnel ended")
	}
}

// TestAgentConnectedImpliesRegistered: the moment the agent sees its tunnel
// up, the gateway can already open streams to it (the 101 is sent only
// after registration). Repeated through reconnects to catch the race.
func TestAgentConnectedImpliesRegistered(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("tok-a", wsKey).auth)
	registered := make(chan bool, 100)
	a := startAgent(t, g.url, "tok-a", func(c *ClientConfig) {
		c.OnConnect = func() { registered <- g.reg.Connected(wsKey) }
	})
	for i := range 20 {
		select {
		case ok := <-registered:
			if !ok {
				t.Fatalf("connect %d: the agent saw its tunnel up before the gateway registered it", i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("connect %d did not happen; agent logs:\n%s", i, a.logs.String())
		}
		g.reg.Disconnect(wsKey)
	}
}
