package agent

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// Close ends a live session and its process, and HandleStream refuses
// streams afterwards. goleak in TestMain checks nothing is left running.
func TestCloseEndsLiveSessions(t *testing.T) {
	a := newTestAgent(t)
	client := dialConn(t, a)
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

	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindConn, User: "carol", SessionID: "s9"})
	if b := sayHello(t, c); len(b) != 0 {
		t.Fatalf("a closed agent answered %x to hello", b)
	}
}

// helloFrame is chanwire's hello, version 2 (tunnel/chanwire/spec.md).
var helloFrame = []byte{1, 0, 0, 0, 1, 2}

// sayHello sends hello on a conn stream and returns everything the agent
// sends until it closes the stream (or a second after the hello).
func sayHello(t *testing.T, c *net.TCPConn) []byte {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if _, err := c.Write(helloFrame); err != nil {
		return nil // already closed
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Second))
	b, _ := io.ReadAll(c)
	return b
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

// A conn stream that never says hello is closed.
func TestHelloTimeout(t *testing.T) {
	old := chanwire.FirstFrameTimeout
	chanwire.FirstFrameTimeout = 100 * time.Millisecond
	t.Cleanup(func() { chanwire.FirstFrameTimeout = old })
	a := newTestAgent(t)
	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindConn, User: "bob", SessionID: "s1"})
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 0 {
		t.Fatalf("silent conn stream: read %q, %v; want it closed", b, err)
	}
}

// Tunnel protocol v1 (an SSH connection inside the stream) is refused.
func TestV1StreamRefused(t *testing.T) {
	a := newTestAgent(t)
	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindSSH, User: "bob", SessionID: "s1"})
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Fatalf("v1 stream answered %q", b)
	}
	testutil.Eventually(t, "refusal logged", func() bool {
		return strings.Contains(strings.Join(a.Logs(logRingLines), "\n"), "tunnel protocol v1 stream refused")
	})
}

// A second connection with a session id in use is refused; the first goes on.
func TestDuplicateSessionIDRefused(t *testing.T) {
	a := newTestAgent(t)
	tt := newTestTunnel(t, a)
	first := dialConnAs(t, tt, "bob", "dup")
	second, err := connectVia(tt.open, "bob", "dup")
	if err == nil {
		// The hello is answered before the refusal; the close is the refusal.
		second.t = t
		select {
		case <-second.cw.Done():
		case <-time.After(testTimeout):
			t.Fatal("duplicate connection was not closed")
		}
		second.Close()
	}
	if err := newSession(t, first).Run("true"); err != nil {
		t.Fatalf("first connection after the duplicate: %v", err)
	}
}

// A channel stream for an unknown connection, or for another user's, is
// closed.
func TestChannelStreamForUnknownConnection(t *testing.T) {
	a := newTestAgent(t)
	tt := newTestTunnel(t, a)
	dialConnAs(t, tt, "bob", "s1")
	for _, h := range []tunnel.Header{
		{Kind: tunnel.KindChannel, User: "bob", SessionID: "nope"},
		{Kind: tunnel.KindChannel, User: "carol", SessionID: "s1"},
	} {
		c := streamPair(t, a, h)
		_ = c.SetDeadline(time.Now().Add(testTimeout))
		_, _ = c.Write([]byte{2, 0, 0, 0, 8, 7, 's', 'e', 's', 's', 'i', 'o', 'n'}) // open "session"
		if b, _ := io.ReadAll(c); len(b) != 0 {
			t.Errorf("%+v: stream answered %x", h, b)
		}
	}
}
