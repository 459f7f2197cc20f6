package chanwire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// openSession opens a channel from the gateway and accepts it on the agent.
func openSession(t *testing.T, cs *conns) (gw, ag *Channel, agReqs <-chan *Request) {
	t.Helper()
	type res struct {
		ch  *Channel
		err error
	}
	got := make(chan res, 1)
	go func() {
		ch, _, err := cs.gw.OpenChannel("session", []byte("extra"))
		got <- res{ch, err}
	}()
	nc := recvTimeout(t, cs.agChans, "new channel")
	if nc.ChannelType() != "session" || string(nc.ExtraData()) != "extra" {
		t.Fatalf("got %q %q", nc.ChannelType(), nc.ExtraData())
	}
	ag, agReqs, err := nc.Accept()
	if err != nil {
		t.Fatal(err)
	}
	r := recvTimeout(t, got, "open")
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.ch, ag, agReqs
}

// TestSessionOrder: data, stderr, eof, exit-status and close reach the
// gateway in the order the agent sent them, stdout and stderr apart.
func TestSessionOrder(t *testing.T) {
	cs := newConns(t, newPair(t))
	gw, ag, agReqs := openSession(t, cs)

	// The user's requests reach the agent, and their replies come back in order.
	go func() {
		for req := range agReqs {
			_ = req.Reply(req.Type == "exec", []byte(req.Type))
		}
	}()
	if ok, err := gw.SendRequest("pty-req", true, nil); err != nil || ok {
		t.Fatalf("pty-req: %v %v", ok, err)
	}
	if ok, err := gw.SendRequest("exec", true, []byte("cmd")); err != nil || !ok {
		t.Fatalf("exec: %v %v", ok, err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16) // more than one window
	go func() {
		_, _ = ag.Write(big)
		_, _ = ag.Stderr().Write([]byte("warning\n"))
		_ = ag.CloseWrite()
		_, _ = ag.SendRequest("exit-status", false, []byte{0, 0, 0, 3})
		_ = ag.Close()
	}()
	var errOut bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = io.Copy(&errOut, gw.Stderr()) }()
	out, err := io.ReadAll(gw)
	if err != nil || !bytes.Equal(out, big) {
		t.Fatalf("stdout: %d bytes, err %v", len(out), err)
	}
	req := recvTimeout(t, gw.Requests(), "exit-status")
	if req.Type != "exit-status" || !bytes.Equal(req.Payload, []byte{0, 0, 0, 3}) {
		t.Fatalf("request %q %v", req.Type, req.Payload)
	}
	wg.Wait()
	if errOut.String() != "warning\n" {
		t.Fatalf("stderr %q", errOut.String())
	}
	<-gw.Done()
	if _, ok := <-gw.Requests(); ok {
		t.Fatal("requests not closed after close")
	}
	if _, err := gw.Write([]byte("x")); !errors.Is(err, ErrChannelClosed) {
		t.Fatalf("write after peer close: %v", err)
	}
	gw.Close()
}

// TestEOFIsNotClose: after the gateway's eof the agent still sends data and
// requests, and the gateway still reads them.
func TestEOFIsNotClose(t *testing.T) {
	cs := newConns(t, newPair(t))
	gw, ag, agReqs := openSession(t, cs)
	go func() {
		for range agReqs {
		}
	}()
	if _, err := gw.Write([]byte("input")); err != nil {
		t.Fatal(err)
	}
	if err := gw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Write([]byte("more")); err != io.EOF {
		t.Fatalf("write after eof: %v", err)
	}
	in, err := io.ReadAll(ag)
	if err != nil || string(in) != "input" {
		t.Fatalf("agent read %q %v", in, err)
	}
	if _, err := ag.Write([]byte("output")); err != nil {
		t.Fatal(err)
	}
	ag.Close()
	out, _ := io.ReadAll(gw)
	if string(out) != "output" {
		t.Fatalf("gateway read %q", out)
	}
	gw.Close()
}

// TestOpenRefused: the agent's refusal reaches the gateway as an
// *OpenChannelError with SSH's reason.
func TestOpenRefused(t *testing.T) {
	cs := newConns(t, newPair(t))
	go func() {
		nc := <-cs.agChans
		_ = nc.Reject(Prohibited, "no forwarding here")
	}()
	_, _, err := cs.gw.OpenChannel("direct-tcpip", nil)
	var oe *OpenChannelError
	if !errors.As(err, &oe) || oe.Reason != Prohibited || oe.Message != "no forwarding here" {
		t.Fatalf("got %v", err)
	}
}

// TestOpenTowardUser: the agent's open-request becomes a NewChannel on the
// gateway; accepting it opens a stream, rejecting it answers on the conn.
func TestOpenTowardUser(t *testing.T) {
	cs := newConns(t, newPair(t))
	go func() {
		nc := <-cs.gwChans
		if nc.ChannelType() != "forwarded-tcpip" {
			_ = nc.Reject(UnknownChannelType, nc.ChannelType())
			return
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for range reqs {
			}
		}()
		_, _ = io.Copy(ch, ch) // echo
		_ = ch.Close()
	}()
	ch, reqs, err := cs.ag.OpenChannel("forwarded-tcpip", []byte("addr"))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range reqs {
		}
	}()
	if _, err := ch.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	_ = ch.CloseWrite()
	got, _ := io.ReadAll(ch)
	if string(got) != "ping" {
		t.Fatalf("echo %q", got)
	}
	ch.Close()

	go func() {
		nc := <-cs.gwChans
		_ = nc.Reject(Prohibited, "remote forwarding was not requested")
	}()
	_, _, err = cs.ag.OpenChannel("auth-agent@openssh.com", nil)
	var oe *OpenChannelError
	if !errors.As(err, &oe) || oe.Reason != Prohibited {
		t.Fatalf("got %v", err)
	}
}

// TestGlobalRequests travel on the conn stream both ways with replies.
func TestGlobalRequests(t *testing.T) {
	cs := newConns(t, newPair(t))
	go func() {
		for req := range cs.agReqs {
			_ = req.Reply(req.Type == "tcpip-forward", []byte{0, 0, 0x1f, 0x90})
		}
	}()
	ok, payload, err := cs.gw.SendRequest("tcpip-forward", true, []byte("x"))
	if err != nil || !ok || !bytes.Equal(payload, []byte{0, 0, 0x1f, 0x90}) {
		t.Fatalf("got %v %v %v", ok, payload, err)
	}
	ok, _, err = cs.gw.SendRequest("no-such-request", true, nil)
	if err != nil || ok {
		t.Fatalf("unknown request: %v %v", ok, err)
	}
}

// TestConnCloseEndsChannels: closing the conn stream closes every channel
// of the connection on both sides and ends pending opens.
func TestConnCloseEndsChannels(t *testing.T) {
	cs := newConns(t, newPair(t))
	gw, ag, agReqs := openSession(t, cs)
	go func() {
		for range agReqs {
		}
	}()
	cs.gw.Close()
	recvTimeoutClosed(t, ag.Done())
	recvTimeoutClosed(t, gw.Done())
	recvTimeoutClosed(t, cs.ag.Done())
	if _, _, err := cs.ag.OpenChannel("forwarded-tcpip", nil); err == nil {
		t.Fatal("open after the connection ended")
	}
	if _, _, err := cs.gw.OpenChannel("session", nil); err == nil {
		t.Fatal("open after the connection ended")
	}
	ag.Close()
	gw.Close()
}

// TestBadFrameEndsOnlyItsStream: an oversize frame on one channel closes that
// channel; the connection and its other channels go on.
func TestBadFrameEndsOnlyItsStream(t *testing.T) {
	cs := newConns(t, newPair(t))
	gw1, ag1, r1 := openSession(t, cs)
	gw2, ag2, r2 := openSession(t, cs)
	for _, r := range []<-chan *Request{r1, r2} {
		go func() {
			for range r {
			}
		}()
	}
	// Forge a data frame header announcing more than MaxData.
	if _, err := gw1.s.Write([]byte{byte(frameData), 0, 2, 0, 0}); err != nil {
		t.Fatal(err)
	}
	recvTimeoutClosed(t, ag1.Done())
	if err := ag1.Err(); !errors.Is(err, ErrBadFrame) || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("agent's error %v", err)
	}
	recvTimeoutClosed(t, gw1.Done())
	if _, err := gw2.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(ag2, buf); err != nil || string(buf) != "still here" {
		t.Fatalf("second channel: %q %v", buf, err)
	}
	select {
	case <-cs.ag.Done():
		t.Fatal("the connection ended with one bad channel")
	default:
	}
	gw1.Close()
	ag1.Close()
	gw2.Close()
	ag2.Close()
}

// TestVersionMismatch: a hello with another version is refused.
func TestVersionMismatch(t *testing.T) {
	p := newPair(t)
	errc := make(chan error, 1)
	go func() {
		s, err := p.ag.AcceptStream()
		if err != nil {
			errc <- err
			return
		}
		_, _, _, err = Server(fullClose{s}, nil)
		errc <- err
	}()
	ctrl, err := p.dial(nil)
	if err != nil {
		t.Fatal(err)
	}
	fw := frameWriter{w: ctrl}
	_ = fw.write(frameHello, []byte{1})
	err = recvTimeout(t, errc, "server")
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("got %v", err)
	}
	ctrl.Close()
}

func recvTimeoutClosed(t *testing.T, c <-chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-timeAfter():
		t.Fatal("timed out waiting for close")
	}
}

func timeAfter() <-chan time.Time { return time.After(5 * time.Second) }
