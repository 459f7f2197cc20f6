package agent

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel"
)

// Close ends a live session and its process, and HandleStream refuses
// streams afterwards. goleak in TestMain checks nothing is left running.
func TestCloseEndsLiveSessions(t *testing.T) {
	a := newTestAgent(t)
	client := dialSSH(t, a)
	s := newSession(t, client)
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("echo $$; exec sleep 600"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("pid line %q: %v", line, err)
	}

	closed := make(chan error, 1)
	go func() { closed <- a.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not return")
	}
	if err := s.Wait(); err == nil {
		t.Fatal("session ended cleanly after Close; want it cut off")
	}
	// The program was reaped by the agent, so its pid is gone.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("sleep (pid %d) still exists after Close: %v", pid, err)
	}

	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindSSH, User: "carol", SessionID: "s9"})
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if _, _, _, err := ssh.NewClientConn(c, "ws", &ssh.ClientConfig{User: "g", HostKeyCallback: ssh.InsecureIgnoreHostKey()}); err == nil {
		t.Fatal("SSH handshake succeeded on a closed agent")
	}
}

func TestBadHeaderClosesStream(t *testing.T) {
	a := newTestAgent(t)
	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindTCP, User: "bob"}) // tcp without a port
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	var b [1]byte
	if n, err := c.Read(b[:]); err == nil {
		t.Fatalf("read %d bytes from a stream with a bad header", n)
	}
}

// A stream whose SSH handshake never completes is closed.
func TestHandshakeTimeout(t *testing.T) {
	old := handshakeTimeout
	handshakeTimeout = 100 * time.Millisecond
	t.Cleanup(func() { handshakeTimeout = old })
	a := newTestAgent(t)
	c := streamPair(t, a, bob)
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	b, err := io.ReadAll(c) // the server's version line, then the close
	if err != nil {
		t.Fatalf("stream not closed by the agent: %v", err)
	}
	if !strings.HasPrefix(string(b), "SSH-2.0-wsgate-agent") {
		t.Fatalf("read %q", b)
	}
}
