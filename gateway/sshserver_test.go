package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/sshfront"
	"github.com/wsgate/wsgate/internal/testutil"
)

func TestTargets(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	ws := acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}

	for _, login := range []string{"alice-ws", "alice-ws.coder", "alice/alice-ws", "alice--alice-ws", "alice--alice-ws.coder"} {
		c := e.mustDial("alice", login)
		if r := run(t, c, "echo $WSGATE_WORKSPACE", nil); r.stdout != "alice/alice-ws\n" {
			t.Errorf("alice as %q: %+v", login, r)
		}
	}

	// bob sees the same refusal for a workspace that exists and one that
	// does not, before the share; after it, he gets in under every form.
	// He is refused during authentication, so no channel (a port forward
	// either) ever opens.
	denied := func(login string) string {
		return `wsgate: workspace "` + login + `" not found or access denied` + "\n"
	}
	for _, login := range []string{"alice-ws", "alice/alice-ws", "alice--alice-ws.coder", "nope-ws", "alice/nope-ws", "zed/alice-ws", "Bad Name"} {
		if b := e.refusedEarly("bob", login); b != denied(login) {
			t.Errorf("bob as %q: banner %q", login, b)
		}
	}

	e.share(ws, acl.SubjectUser, "bob", acl.RoleUse)
	for _, login := range []string{"alice-ws", "alice-ws.coder", "alice/alice-ws", "alice--alice-ws"} {
		c := e.mustDial("bob", login)
		if r := run(t, c, "echo $WSGATE_USER", nil); r.stdout != "bob\n" {
			t.Errorf("bob as %q after the share: %+v", login, r)
		}
	}

	// carol gets in through her group.
	e.share(ws, acl.SubjectGroup, "contractor", acl.RoleUse)
	if r := run(t, e.mustDial("carol", "alice-ws"), "echo $WSGATE_USER", nil); r.stdout != "carol\n" {
		t.Errorf("carol through contractor: %+v", r)
	}
}

func TestDisableSharing(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.access.DisableSharing = true })
	e.startAgent("alice/alice-ws")
	e.share(acl.WorkspaceID{Owner: "alice", Name: "alice-ws"}, acl.SubjectUser, "bob", acl.RoleAdmin)
	if b := e.refusedEarly("bob", "alice/alice-ws"); !strings.Contains(b, "not found or access denied") {
		t.Fatalf("bob with sharing disabled: banner %q", b)
	}
	if r := run(t, e.mustDial("alice", "alice-ws"), "true", nil); r.err != nil {
		t.Fatalf("owner with sharing disabled: %+v", r)
	}
}

func TestAmbiguousBareName(t *testing.T) {
	e := newEnv(t)
	e.createWorkspace("carol", "dev")
	e.createWorkspace("alice", "dev")
	e.share(acl.WorkspaceID{Owner: "carol", Name: "dev"}, acl.SubjectUser, "bob", acl.RoleUse)
	e.share(acl.WorkspaceID{Owner: "alice", Name: "dev"}, acl.SubjectUser, "bob", acl.RoleUse)
	want := "wsgate: workspace \"dev\" is ambiguous; use one of: alice--dev, carol--dev\n"
	if b := e.refusedEarly("bob", "dev"); b != want {
		t.Fatalf("ambiguous: banner %q", b)
	}
	// The owner's own workspace wins over shared ones.
	e.createWorkspace("bob", "dev")
	e.startAgent("bob/dev")
	if r := run(t, e.mustDial("bob", "dev"), "echo $WSGATE_WORKSPACE", nil); r.stdout != "bob/dev\n" {
		t.Fatalf("own workspace: %+v", r)
	}
}

func TestAgentNotConnected(t *testing.T) {
	e := newEnv(t)
	c := e.mustDial("bob", "bob-ws")
	r := run(t, c, "true", nil)
	want := "wsgate: workspace bob/bob-ws is not running (agent not connected)\r\n"
	if r.exit != 255 || r.stderr != want {
		t.Fatalf("got %+v", r)
	}
	// A shell (as OpenSSH's interactive login asks for) gets the same.
	c2 := e.mustDial("bob", "bob-ws")
	s, err := c2.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	errb := &testutil.Buffer{}
	s.Stderr = errb
	if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 255 || errb.String() != want {
		t.Fatalf("shell: %v, stderr %q", err, errb.String())
	}
	// Once the agent is up, the same login works.
	e.startAgent("bob/bob-ws")
	if r := run(t, e.mustDial("bob", "bob-ws"), "echo up", nil); r.stdout != "up\n" {
		t.Fatalf("after the agent connected: %+v", r)
	}
}

// readBanner reads the server's identification line.
func readBanner(t *testing.T, c net.Conn) (string, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	return bufio.NewReader(c).ReadString('\n')
}

func TestHandshakeTimeout(t *testing.T) {
	e := newEnv(t, withSSH(func(c *sshfront.Config) { c.HandshakeTimeout = 300 * time.Millisecond }))
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.Copy(io.Discard, c) // banner, then the server hangs up
	if err != nil {
		t.Fatalf("silent connection was not closed by the server: %v", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed after %v, want about 300ms", d)
	}
}

func TestMaxUnauthenticated(t *testing.T) {
	e := newEnv(t, withSSH(func(c *sshfront.Config) { c.MaxUnauthenticated = 2 }))
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if b, err := readBanner(t, c); err != nil || !strings.HasPrefix(b, "SSH-2.0-") {
			t.Fatalf("banner %q, %v", b, err)
		}
		held = append(held, c)
	}
	// The third is closed at once, without a banner.
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if b, err := readBanner(t, c); err != io.EOF || b != "" {
		t.Fatalf("third connection: %q, %v; want EOF", b, err)
	}
	// Authenticated connections do not count.
	held[0].Close()
	testutil.Eventually(t, "a slot frees", func() bool { return e.srv.Unauthenticated() < 2 })
	cl := e.mustDial("alice", "alice-ws")
	defer cl.Close()
	// The client may see the handshake end just before the server does.
	testutil.Eventually(t, "alice's connection counted as authenticated", func() bool { return e.srv.Unauthenticated() == 1 })
	c4, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c4.Close()
	if b, err := readBanner(t, c4); err != nil || !strings.HasPrefix(b, "SSH-2.0-") {
		t.Fatalf("after a slot freed: %q, %v", b, err)
	}
}

func TestIdleTimeout(t *testing.T) {
	e := newEnv(t, withSSH(func(c *sshfront.Config) { c.IdleTimeout = 300 * time.Millisecond }))
	e.startAgent("alice/alice-ws")
	// A connection with a running session is kept past the timeout.
	busy := e.mustDial("alice", "alice-ws")
	s, err := busy.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stdin, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Start("cat"); err != nil {
		t.Fatal(err)
	}
	idle := e.mustDial("alice", "alice-ws")
	idleDone := make(chan error, 1)
	go func() { idleDone <- idle.Wait() }()
	select {
	case <-idleDone:
	case <-time.After(5 * time.Second):
		t.Fatal("idle connection not closed")
	}
	// The busy one still works.
	if _, err := stdin.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("busy connection: %q, %v", line, err)
	}
	_ = stdin.Close()
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestKeepaliveAnswered(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")
	ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
	if err != nil || ok {
		t.Fatalf("keepalive: ok=%v err=%v; want a failure reply", ok, err)
	}
	// The connection is still usable.
	if r := run(t, c, "echo still", nil); r.stdout != "still\n" {
		t.Fatalf("after keepalive: %+v", r)
	}
}

func TestShutdownEndsSessions(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	errb := &testutil.Buffer{}
	s.Stderr = errb
	if err := s.Start("sleep 30"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "session registered", func() bool { return len(e.sessions.Connections("")) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err == nil {
		t.Fatal("session survived shutdown")
	}
	if !strings.Contains(errb.String(), "wsgate: the gateway is shutting down\r\n") {
		t.Fatalf("stderr %q", errb.String())
	}
	if _, err := e.dial("alice", "alice-ws"); err == nil {
		t.Fatal("dial after shutdown succeeded")
	}
}
