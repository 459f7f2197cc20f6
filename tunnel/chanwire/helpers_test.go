package chanwire

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/wsgate/wsgate/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fullClose gives a yamux stream the tunnel's Close: FIN and an end to
// local reads (tunnel.stream does the same).
type fullClose struct{ *yamux.Stream }

func (s fullClose) Close() error {
	err := s.Stream.Close()
	_ = s.Stream.SetReadDeadline(time.Unix(1, 0))
	return err
}

// pair is a yamux session over loopback TCP: the gateway's side opens
// streams, the agent's side accepts them.
type pair struct {
	gw, ag *yamux.Session
}

func newPair(t *testing.T) *pair {
	t.Helper()
	cc, sc := testutil.TCPPair(t)
	cfg := yamux.DefaultConfig()
	cfg.LogOutput = nil
	cfg.Logger = discardLogger{}
	gw, err := yamux.Client(cc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ag, err := yamux.Server(sc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Close(); _ = ag.Close() })
	return &pair{gw: gw, ag: ag}
}

type discardLogger struct{}

func (discardLogger) Print(...any)          {}
func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

func (p *pair) dial(context.Context) (net.Conn, error) {
	s, err := p.gw.OpenStream()
	if err != nil {
		return nil, err
	}
	return fullClose{s}, nil
}

// conns sets up a chanwire connection on p: the gateway's Conn and the
// agent's, whose channel streams are served by a background accept loop.
type conns struct {
	gw, ag         *Conn
	gwChans        <-chan *NewChannel
	gwReqs         <-chan *Request
	agChans        <-chan *NewChannel
	agReqs         <-chan *Request
	streamsHandled chan error
}

func newConns(t *testing.T, p *pair) *conns {
	t.Helper()
	cs := &conns{streamsHandled: make(chan error, 64)}
	type srv struct {
		c     *Conn
		chans <-chan *NewChannel
		reqs  <-chan *Request
		err   error
	}
	agDone := make(chan srv, 1)
	go func() {
		s, err := p.ag.AcceptStream()
		if err != nil {
			agDone <- srv{err: err}
			return
		}
		c, chans, reqs, err := Server(fullClose{s}, nil)
		agDone <- srv{c, chans, reqs, err}
	}()
	ctrl, err := p.dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	gw, gwChans, gwReqs, err := Client(ctx, ctrl, p.dial)
	if err != nil {
		t.Fatal(err)
	}
	a := <-agDone
	if a.err != nil {
		t.Fatal(a.err)
	}
	cs.gw, cs.gwChans, cs.gwReqs = gw, gwChans, gwReqs
	cs.ag, cs.agChans, cs.agReqs = a.c, a.chans, a.reqs
	go func() {
		for {
			s, err := p.ag.AcceptStream()
			if err != nil {
				return
			}
			go func() { cs.streamsHandled <- a.c.HandleStream(fullClose{s}) }()
		}
	}()
	t.Cleanup(func() {
		_ = gw.Close()
		_ = a.c.Close()
		<-gw.Done()
		<-a.c.Done()
	})
	return cs
}

func recvTimeout[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v, ok := <-c:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: timed out", what)
	}
	var zero T
	return zero
}
