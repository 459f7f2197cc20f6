package gateway

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/testutil"
	"golang.org/x/crypto/ssh"
)

// TestDropTellsBeforeTeardown: a dropped user sees the reason and the end
// of the connection while the gateway still holds it (a mass drop is
// still telling others: held here by the test); the teardown follows, and
// the workspace has what the user typed before the drop only.
func TestDropTellsBeforeTeardown(t *testing.T) {
	e, ra, _ := newBobSharedEnv(t)

	c := e.mustDial("bob", "alice/alice-ws")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testutil.Buffer{}
	s.Stderr = stderr
	stdin, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	typed := filepath.Join(ra.dir, "typed")
	if err := s.Start("cat > " + typed); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(stdin, "before\n"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "typed before the drop", func() bool {
		b, _ := os.ReadFile(typed)
		return string(b) == "before\n"
	})

	release := e.sessions.HoldTeardown()
	defer release()
	ended := make(chan error, 1)
	go func() { ended <- s.Wait() }() // after stdout and stderr are copied
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone)
	toldButHeld(t, e, ended, stderr, "the teardown waits for the others to be told")
	// Never released: the teardown goes ahead after MaxTeardownDelay.
	e.waitNoSessions()
	testutil.Eventually(t, "the workspace's cat ended", func() bool {
		out, _ := os.ReadFile(typed)
		return string(out) == "before\n" && !strings.Contains(e.logs.String(), "panic")
	})
}

// TestDropTeardownWaitsForTheUsersClose: after a drop, the gateway keeps
// the connection until the user's client has closed its side (it reacted
// to the end of the stream with the connection whole), not just until the
// message went out. A relay between client and gateway passes the
// gateway's end of the stream on but holds back the client's close.
func TestDropTeardownWaitsForTheUsersClose(t *testing.T) {
	e, _, _ := newBobSharedEnv(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	userClosed := make(chan struct{}) // the client closed its side
	letGo := make(chan struct{})      // pass that close on to the gateway
	go func() {
		u, err := ln.Accept()
		if err != nil {
			return
		}
		defer u.Close()
		g, err := net.Dial("tcp", e.addr)
		if err != nil {
			return
		}
		go func() {
			_, _ = io.Copy(u, g)
			_ = u.(*net.TCPConn).CloseWrite()
		}()
		_, _ = io.Copy(g, u)
		close(userClosed)
		<-letGo
		_ = g.Close()
	}()
	c, err := ssh.Dial("tcp", ln.Addr().String(), &ssh.ClientConfig{
		User: "alice/alice-ws", Auth: []ssh.AuthMethod{ssh.PublicKeys(e.keys["bob"])},
		HostKeyCallback: ssh.FixedHostKey(e.hostKey), Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testutil.Buffer{}
	s.Stderr = stderr
	if err := s.Start("sleep 30"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "bob's session tracked", func() bool { return e.sessions.Len() == 1 })

	ended := make(chan error, 1)
	go func() { ended <- s.Wait() }() // after stdout and stderr are copied
	e.share(aliceWS, acl.SubjectUser, "bob", acl.RoleNone)
	select {
	case <-userClosed: // x/crypto closes once it read the end of the stream
	case <-time.After(10 * time.Second):
		t.Fatal("bob's client did not see the end of the connection")
	}
	toldButHeld(t, e, ended, stderr, "the teardown waits for the user's close")
	close(letGo)
	e.waitNoSessions()
}

// toldButHeld fails t unless bob's session ends (ended, once its output
// was copied) with the reason on its stderr while the gateway still holds
// the connection a moment later, as why says it should.
func toldButHeld(t *testing.T, e *testEnv, ended <-chan error, stderr *testutil.Buffer, why string) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("bob's session outlived the drop")
	}
	if !strings.Contains(stderr.String(), "wsgate: access to alice/alice-ws was revoked") {
		t.Fatalf("stderr %q lacks the reason", stderr.String())
	}
	time.Sleep(100 * time.Millisecond) // a teardown not held would be over by now
	if n := e.sessions.Len(); n != 1 {
		t.Fatalf("%d sessions tracked after the user saw the end; want 1: %s", n, why)
	}
}
