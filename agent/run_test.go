package agent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wsgate/wsgate/tunnel"
)

// gatewayStub is the gateway's side of the tunnel: a real tunnel.Registry
// behind a real HTTP server on loopback.
type gatewayStub struct {
	reg *tunnel.Registry
	url string
}

func newGatewayStub(t *testing.T) *gatewayStub {
	t.Helper()
	reg := tunnel.NewRegistry(tunnel.RegistryConfig{Logger: testLogger(t)})
	mux := http.NewServeMux()
	mux.Handle(tunnel.ConnectPath, reg.Handler(func(_ context.Context, token string) (string, error) {
		if token != "agent-token" {
			return "", errors.New("bad token")
		}
		return "alice/alice-ws", nil
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		reg.Close()
		srv.Close()
	})
	return &gatewayStub{reg: reg, url: srv.URL}
}

// agentRun is a.Run in a goroutine.
type agentRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's result, once done is closed
}

func (r *agentRun) wait() error {
	<-r.done
	return r.err
}

// runAgent runs a.Run against the gateway and waits for the tunnel to be
// up; a cleanup ends it.
func runAgent(t *testing.T, a *Agent, g *gatewayStub) *agentRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &agentRun{cancel: cancel, done: make(chan struct{})}
	up := make(chan struct{}, 1)
	go func() {
		defer close(r.done)
		r.err = a.Run(ctx, tunnel.ClientConfig{
			URL:        g.url,
			Token:      "agent-token",
			MinBackoff: 10 * time.Millisecond,
			Logger:     testLogger(t),
			OnConnect: func() {
				select {
				case up <- struct{}{}:
				default:
				}
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(testTimeout):
			t.Error("Run did not return after its ctx ended")
		}
	})
	select {
	case <-up:
	case <-r.done:
		t.Fatalf("Run returned before connecting: %v", r.err)
	case <-time.After(testTimeout):
		t.Fatal("tunnel did not come up")
	}
	return r
}

// The whole path the gateway uses: a conn stream, a session channel on its
// own stream, a -L relay with half-close, and an app stream.
func TestRunServesTunnelStreams(t *testing.T) {
	g := newGatewayStub(t)
	a := newTestAgent(t)
	run := runAgent(t, a, g)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	client, err := connectVia(func(h tunnel.Header) (net.Conn, error) {
		return g.reg.Open(ctx, "alice/alice-ws", h)
	}, "carol", "t1")
	if err != nil {
		t.Fatalf("connection over the tunnel: %v", err)
	}
	client.t = t
	defer client.Close()
	out, err := newSession(t, client).Output("echo $WSGATE_USER")
	if err != nil || string(out) != "carol\n" {
		t.Fatalf("exec over the tunnel: %q %v", out, err)
	}

	addr := halfCloseServer(t)
	c, err := client.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if got := askHalfClosed(t, c, "via tunnel"); got != "got:via tunnel" {
		t.Fatalf("-L over the tunnel: %q", got)
	}
	c.Close()

	app, err := g.reg.Open(ctx, "alice/alice-ws", tunnel.Header{Kind: tunnel.KindTCP, User: "carol", SessionID: "t2", Port: portOf(t, addr)})
	if err != nil {
		t.Fatal(err)
	}
	if got := askHalfClosed(t, app.(halfCloseConn), "app"); got != "got:app" {
		t.Fatalf("tcp stream over the tunnel: %q", got)
	}
	app.Close()

	client.Close()
	run.cancel()
	if err := run.wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: %v, want context.Canceled", err)
	}
}

func TestRunEndsOnClose(t *testing.T) {
	g := newGatewayStub(t)
	a := newTestAgent(t)
	run := runAgent(t, a, g)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := run.wait(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after Close: %v, want ErrClosed", err)
	}
	if err := a.Run(context.Background(), tunnel.ClientConfig{URL: g.url, Token: "agent-token"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run on a closed agent: %v, want ErrClosed", err)
	}
}
