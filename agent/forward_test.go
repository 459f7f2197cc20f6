package agent

import (
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// ssh -L: the answer comes back after the client's half-close.
func TestDirectTCPIPHalfClose(t *testing.T) {
	addr := halfCloseServer(t)
	client := dialConn(t, newTestAgent(t))
	for _, msg := range []string{"hello", ""} {
		c, err := client.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("direct-tcpip: %v", err)
		}
		if got := askHalfClosed(t, c, msg); got != "got:"+msg {
			t.Errorf("answer %q, want %q", got, "got:"+msg)
		}
		c.Close()
	}
}

func TestDirectTCPIPUnreachableRejected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	client := dialConn(t, newTestAgent(t))
	_, err = client.Dial("tcp", addr)
	var oce *chanwire.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != chanwire.ConnectionFailed {
		t.Fatalf("dial closed port: %v, want a connect-failed rejection", err)
	}
}

// listenTCP asks for a tcpip-forward (ssh -R) and returns the port bound.
func listenTCP(t *testing.T, client *testClient, addr string, port uint32) uint32 {
	t.Helper()
	ok, reply, err := client.SendRequest("tcpip-forward", true, ssh.Marshal(forwardRequest{Addr: addr, Port: port}))
	if err != nil || !ok {
		t.Fatalf("tcpip-forward: ok=%v err=%v", ok, err)
	}
	if port != 0 {
		return port
	}
	var r struct{ Port uint32 }
	if err := ssh.Unmarshal(reply, &r); err != nil || r.Port == 0 {
		t.Fatalf("tcpip-forward did not report the chosen port: reply %x: %v", reply, err)
	}
	return r.Port
}

// serveIncoming accepts the next channel the agent opens, reads it to EOF
// and answers "got:" and what it read, as a server behind ssh -R would.
func serveIncoming(t *testing.T, nc *chanwire.NewChannel) <-chan error {
	t.Helper()
	served := make(chan error, 1)
	ch, reqs, err := nc.Accept()
	if err != nil {
		t.Fatalf("accept %s: %v", nc.ChannelType(), err)
	}
	go discardRequests(reqs)
	go func() {
		defer ch.Close()
		b, err := io.ReadAll(ch)
		if err == nil {
			_, err = ch.Write(append([]byte("got:"), b...))
		}
		served <- err
	}()
	return served
}

// ssh -R: a connection to the agent-side listener reaches the client, with
// half-close both ways; after cancel the port is closed.
func TestTCPIPForward(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	port := listenTCP(t, client, "127.0.0.1", 0)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))

	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial forwarded port: %v", err)
	}
	defer c.Close()
	nc := client.nextIncoming()
	var p struct {
		Addr       string
		Port       uint32
		OriginAddr string
		OriginPort uint32
	}
	if nc.ChannelType() != "forwarded-tcpip" || ssh.Unmarshal(nc.ExtraData(), &p) != nil || p.Addr != "127.0.0.1" || p.Port != port {
		t.Fatalf("agent opened %s %+v, want forwarded-tcpip for 127.0.0.1:%d", nc.ChannelType(), p, port)
	}
	served := serveIncoming(t, nc)
	if got := askHalfClosed(t, c.(*net.TCPConn), "over -R"); got != "got:over -R" {
		t.Errorf("answer %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("client side: %v", err)
	}

	// cancel-tcpip-forward is answered after the listener is closed.
	if ok, _, err := client.SendRequest("cancel-tcpip-forward", true, ssh.Marshal(forwardRequest{Addr: "127.0.0.1", Port: port})); err != nil || !ok {
		t.Fatalf("cancel: ok=%v err=%v", ok, err)
	}
	if c2, err := net.Dial("tcp", addr); err == nil {
		c2.Close()
		t.Fatal("forwarded port still open after cancel")
	}
}

// An empty bind address means loopback, the reply carries the chosen port,
// and cancel matches the address as the client sent it.
func TestTCPIPForwardDefaultLoopbackAndCancel(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	ok, reply, err := client.SendRequest("tcpip-forward", true, ssh.Marshal(forwardRequest{Addr: "", Port: 0}))
	if err != nil || !ok {
		t.Fatalf("tcpip-forward: ok=%v err=%v", ok, err)
	}
	var r struct{ Port uint32 }
	if err := ssh.Unmarshal(reply, &r); err != nil || r.Port == 0 {
		t.Fatalf("reply %x: %v", reply, err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(r.Port)))
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatalf("forward not on loopback: %v", err)
	}
	c.Close()

	if ok, _, _ := client.SendRequest("cancel-tcpip-forward", true, ssh.Marshal(forwardRequest{Addr: "localhost", Port: r.Port})); ok {
		t.Error("cancel with a different address string succeeded")
	}
	if ok, _, err := client.SendRequest("cancel-tcpip-forward", true, ssh.Marshal(forwardRequest{Addr: "", Port: r.Port})); err != nil || !ok {
		t.Fatalf("cancel: ok=%v err=%v", ok, err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("port still open after cancel")
	}
}

// Listeners go away with the connection.
func TestTCPIPForwardClosedWithConnection(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	port := listenTCP(t, client, "127.0.0.1", 0)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))
	client.Close()
	deadline := time.Now().Add(testTimeout)
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("forward listener outlived its connection")
		}
		time.Sleep(10 * time.Millisecond) // polling a port; there is nothing to wait on
	}
}
