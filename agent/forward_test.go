package agent

import (
	"errors"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// ssh -L: the answer comes back after the client's half-close.
func TestDirectTCPIPHalfClose(t *testing.T) {
	addr := halfCloseServer(t)
	client := dialSSH(t, newTestAgent(t))
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
	client := dialSSH(t, newTestAgent(t))
	_, err = client.Dial("tcp", addr)
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.ConnectionFailed {
		t.Fatalf("dial closed port: %v, want a connect-failed rejection", err)
	}
}

// ssh -R: a connection to the agent-side listener reaches the client, with
// half-close both ways; after cancel the port is closed.
func TestTCPIPForward(t *testing.T) {
	client := dialSSH(t, newTestAgent(t))
	ln, err := client.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tcpip-forward: %v", err)
	}
	addr := ln.Addr().String()
	if port := ln.Addr().(*net.TCPAddr).Port; port == 0 {
		t.Fatal("tcpip-forward did not report the chosen port")
	}

	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		b, err := io.ReadAll(c)
		if err == nil {
			_, err = c.Write(append([]byte("got:"), b...))
		}
		served <- err
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial forwarded port: %v", err)
	}
	defer c.Close()
	if got := askHalfClosed(t, c, "over -R"); got != "got:over -R" {
		t.Errorf("answer %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("client side: %v", err)
	}

	if err := ln.Close(); err != nil { // cancel-tcpip-forward, answered after the listener is closed
		t.Fatalf("cancel: %v", err)
	}
	if c2, err := net.Dial("tcp", addr); err == nil {
		c2.Close()
		t.Fatal("forwarded port still open after cancel")
	}
}

// An empty bind address means loopback, the reply carries the chosen port,
// and cancel matches the address as the client sent it.
func TestTCPIPForwardDefaultLoopbackAndCancel(t *testing.T) {
	client := dialSSH(t, newTestAgent(t))
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
	client := dialSSH(t, newTestAgent(t))
	ln, err := client.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
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
