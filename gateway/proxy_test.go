package gateway

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	sshagent "golang.org/x/crypto/ssh/agent"

	"github.com/pkg/sftp"
	"github.com/wsgate/wsgate/internal/testutil"
)

func TestExecExitStatusAndStreams(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")

	if r := run(t, c, "exit 7", nil); r.exit != 7 {
		t.Errorf("exit 7: %+v", r)
	}
	if r := run(t, c, "true", nil); r.exit != 0 || r.err != nil {
		t.Errorf("true: %+v", r)
	}
	r := run(t, c, "echo out; echo err >&2; echo out2", nil)
	if r.stdout != "out\nout2\n" || r.stderr != "err\n" {
		t.Errorf("stdout/stderr not separated: %+v", r)
	}
	// stdin EOF reaches the command: cat ends.
	r = run(t, c, "cat", strings.NewReader("hello\nworld\n"))
	if r.err != nil || r.stdout != "hello\nworld\n" {
		t.Errorf("cat: %+v", r)
	}
	// Output written right before exit is all there, before the status.
	r = run(t, c, "head -c 300000 /dev/zero | tr '\\0' x; exit 5", nil)
	if r.exit != 5 || len(r.stdout) != 300000 {
		t.Errorf("trailing output: exit %d, %d bytes", r.exit, len(r.stdout))
	}
	// exit-signal is relayed.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run("kill -TERM $$")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Errorf("kill -TERM $$: %v", err)
	}
}

func TestBulkBothWays(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")
	data := make([]byte, 8<<20)
	_, _ = rand.Read(data)
	sum := sha256.Sum256(data)
	r := run(t, c, "sha256sum | cut -d' ' -f1", bytes.NewReader(data))
	if strings.TrimSpace(r.stdout) != hex.EncodeToString(sum[:]) {
		t.Fatalf("upload hash mismatch: %+v", r)
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errb := &testutil.Buffer{}
	s.Stderr = errb
	if err := s.Start("head -c 8388608 /dev/urandom > blob && sha256sum < blob | cut -d' ' -f1 >&2 && cat blob"); err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, _ := io.Copy(h, out)
	if err := s.Wait(); err != nil || n != 8<<20 {
		t.Fatalf("download: %d bytes, %v", n, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.TrimSpace(errb.String()) {
		t.Fatalf("download hash %s, remote %q", got, errb.String())
	}
}

// readUntil reads lines from r until one contains want.
func readUntil(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	done := make(chan error, 1)
	var seen strings.Builder
	go func() {
		for {
			line, err := r.ReadString('\n')
			seen.WriteString(line)
			if strings.Contains(line, want) {
				done <- nil
				return
			}
			if err != nil {
				done <- err
				return
			}
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("waiting for %q: %v (seen %q)", want, err, seen.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %q", want)
	}
}

func TestPtyAndWindowChange(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")

	// A window-change sent before the command starts applies to it.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("stty size; echo TERM=$TERM")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(out), "\r", ""); got != "30 100\nTERM=xterm\n" {
		t.Fatalf("size before start: %q", got)
	}

	// A window-change during the session reaches the running command.
	s2, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.RequestPty("xterm", 40, 80, nil); err != nil {
		t.Fatal(err)
	}
	stdin, _ := s2.StdinPipe()
	stdout, _ := s2.StdoutPipe()
	if err := s2.Start("stty -echo; stty size; while read x; do stty size; done"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(stdout)
	readUntil(t, br, "40 80")
	// Many changes in a burst are coalesced; the last one must win.
	for i := range 50 {
		if err := s2.WindowChange(41+i, 120); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		// Poke the loop until the new size shows.
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				if _, err := stdin.Write([]byte("\n")); err != nil {
					return
				}
			}
		}
	}()
	readUntil(t, br, "90 120")
}

func TestDirectTCPIPHalfClose(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")

	// A server in the "workspace" that answers only after the client's EOF.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer conn.Close()
		b, err := io.ReadAll(conn)
		if err != nil {
			served <- err
			return
		}
		_, err = fmt.Fprintf(conn, "got %d bytes: %s", len(b), b)
		served <- err
	}()

	conn, err := c.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	hc, ok := conn.(interface{ CloseWrite() error })
	if !ok {
		t.Fatal("forwarded conn cannot half-close")
	}
	if err := hc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if string(reply) != "got 5 bytes: hello" {
		t.Fatalf("reply %q", reply)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}

	// A refused port is reported as the agent's rejection.
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := dead.Addr().String()
	dead.Close()
	_, err = c.Dial("tcp", addr)
	var oce *ssh.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != ssh.ConnectionFailed {
		t.Fatalf("dial to a closed port: %v", err)
	}
}

func TestRemoteForward(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")

	ln, err := c.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if port == 0 {
		t.Fatal("the chosen port was not relayed")
	}
	accepted := make(chan error, 1)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := io.ReadAll(conn)
			if err == nil {
				_, err = conn.Write(bytes.ToUpper(b))
			}
			conn.Close()
			accepted <- err
		}
	}()
	// Something in the workspace (the agent runs on this machine) connects
	// to the forwarded port, and reaches the user's side.
	for i := range 2 {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		msg := fmt.Sprintf("ping %d", i)
		_, _ = conn.Write([]byte(msg))
		_ = conn.(*net.TCPConn).CloseWrite()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := io.ReadAll(conn)
		conn.Close()
		if err != nil || string(b) != strings.ToUpper(msg) {
			t.Fatalf("through the forward: %q, %v", b, err)
		}
		if err := <-accepted; err != nil {
			t.Fatal(err)
		}
	}
	if err := ln.Close(); err != nil {
		t.Fatalf("cancel-tcpip-forward: %v", err)
	}
	// Once cancelled, the port is closed in the workspace.
	testutil.Eventually(t, "forward cancelled", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
}

func TestAgentForwarding(t *testing.T) {
	if _, err := exec.LookPath("ssh-add"); err != nil {
		t.Fatal("ssh-add is required (openssh-client)")
	}
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")

	keyring := sshagent.NewKeyring()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Add(sshagent.AddedKey{PrivateKey: priv, Comment: "forwarded-key"}); err != nil {
		t.Fatal(err)
	}
	if err := sshagent.ForwardToAgent(c, keyring); err != nil {
		t.Fatal(err)
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := sshagent.RequestAgentForwarding(s); err != nil {
		t.Fatal(err)
	}
	out, err := s.CombinedOutput("ssh-add -l")
	if err != nil || !strings.Contains(string(out), "forwarded-key") {
		t.Fatalf("ssh-add -l: %q, %v", out, err)
	}

	// Without the request, the agent cannot open an agent channel to us.
	c2 := e.mustDial("alice", "alice-ws")
	if err := sshagent.ForwardToAgent(c2, keyring); err != nil {
		t.Fatal(err)
	}
	o2, err := run2(c2, "ssh-add -l")
	if err == nil || strings.Contains(o2, "forwarded-key") {
		t.Fatalf("ssh-add -l without forwarding: %q, %v", o2, err)
	}
}

func run2(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

func TestDrop(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	keep := e.mustDial("alice", "alice-ws")
	victim := e.mustDial("alice", "alice/alice-ws")

	start := func(cl *ssh.Client) (*ssh.Session, *testutil.Buffer) {
		s, err := cl.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		errb := &testutil.Buffer{}
		s.Stderr = errb
		if err := s.Start("sleep 30"); err != nil {
			t.Fatal(err)
		}
		return s, errb
	}
	s1, e1 := start(victim)
	s2, e2 := start(victim)
	k, _ := start(keep)
	defer k.Close()

	var id string
	testutil.Eventually(t, "two sessions listed", func() bool { return len(e.sessions.Connections("")) == 2 })
	for _, si := range e.sessions.Connections("") {
		if si.RemoteAddr == victim.LocalAddr().String() {
			id = si.ID
			if si.User != "alice" || si.Workspace.String() != "alice/alice-ws" || si.KeyFingerprint != ssh.FingerprintSHA256(e.keys["alice"].PublicKey()) || si.Cert {
				t.Fatalf("session info %+v", si)
			}
		}
	}
	if id == "" {
		t.Fatal("victim's session not listed")
	}
	e.sessions.Get(id).Drop("access to alice/alice-ws was revoked", time.Second)
	for i, s := range []*ssh.Session{s1, s2} {
		if err := s.Wait(); err == nil {
			t.Errorf("session %d survived Drop", i)
		}
	}
	for i, b := range []*testutil.Buffer{e1, e2} {
		if b.String() != "wsgate: access to alice/alice-ws was revoked\r\n" {
			t.Errorf("session %d stderr %q", i, b.String())
		}
	}
	if err := victim.Wait(); err == nil {
		t.Error("connection not closed")
	}
	testutil.Eventually(t, "dropped session unlisted", func() bool { return len(e.sessions.Connections("")) == 1 })
	// The other connection is untouched.
	if r := run(t, keep, "echo alive", nil); r.stdout != "alive\n" {
		t.Fatalf("other connection: %+v", r)
	}
	if e.sessions.Get("no-such-id") != nil {
		t.Fatal("unknown session id found")
	}
}

func TestAgentLost(t *testing.T) {
	e := newEnv(t)
	ra := e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")
	var sessions []*ssh.Session
	var bufs []*testutil.Buffer
	for range 2 {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		b := &testutil.Buffer{}
		s.Stderr = b
		if err := s.Start("sleep 30"); err != nil {
			t.Fatal(err)
		}
		sessions, bufs = append(sessions, s), append(bufs, b)
	}
	// A session that already finished is not told anything.
	if r := run(t, c, "echo done", nil); r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	ra.kill()
	for i, s := range sessions {
		if err := s.Wait(); err == nil {
			t.Errorf("session %d survived the agent", i)
		}
		if got := bufs[i].String(); got != "wsgate: connection to workspace alice/alice-ws lost\r\n" {
			t.Errorf("session %d stderr %q", i, got)
		}
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(10 * time.Second):
		t.Fatal("user connection not closed after the agent was lost")
	}
	testutil.Eventually(t, "session unlisted", func() bool { return len(e.sessions.Connections("")) == 0 })
}

// TestConcurrentSessions runs many short sessions at once on one
// connection: every one gets its output, its status and its reply to exec
// in order (a reply overtaken by the close once made Run fail with EOF).
func TestConcurrentSessions(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 5 {
				r := run(t, c, fmt.Sprintf("echo out%d; echo err >&2; exit %d", i, g), nil)
				if r.stdout != fmt.Sprintf("out%d\n", i) || r.stderr != "err\n" || r.exit != g {
					errs <- fmt.Errorf("worker %d run %d: %+v", g, i, r)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestEarlyStdin sends stdin and EOF right behind an exec that wants no
// reply, as OpenSSH does without waiting: the command still reads them.
func TestEarlyStdin(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")
	for i := range 10 {
		ch, reqs, err := c.OpenChannel("session", nil)
		if err != nil {
			t.Fatal(err)
		}
		go ssh.DiscardRequests(reqs)
		_, _ = ch.SendRequest("env", false, ssh.Marshal(struct{ K, V string }{"LANG", "C"}))
		_, _ = ch.SendRequest("exec", false, ssh.Marshal(struct{ C string }{"cat"}))
		want := fmt.Sprintf("hello %d\n", i)
		if _, err := ch.Write([]byte(want)); err != nil {
			t.Fatal(err)
		}
		_ = ch.CloseWrite()
		b, err := io.ReadAll(ch)
		if err != nil || string(b) != want {
			t.Fatalf("run %d: %q, %v", i, b, err)
		}
		_ = ch.Close()
	}
}

func TestSFTP(t *testing.T) {
	e := newEnv(t)
	ra := e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")
	sc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	f, err := sc.Create(ra.dir + "/up.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	must(t, f.Close())
	g, err := sc.Open(ra.dir + "/up.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	back, err := io.ReadAll(g)
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("read back %d bytes, %v", len(back), err)
	}
}

func TestEnvAndSignal(t *testing.T) {
	e := newEnv(t)
	e.startAgent("alice/alice-ws")
	c := e.mustDial("alice", "alice-ws")

	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Setenv("LANG", "C.UTF-8"); err != nil {
		t.Fatalf("env LANG: %v", err)
	}
	out, err := s.Output("echo $LANG")
	if err != nil || string(out) != "C.UTF-8\n" {
		t.Fatalf("env relayed: %q, %v", out, err)
	}

	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stdout, _ := s.StdoutPipe()
	if err := s.Start("trap 'echo caught; exit 4' USR1; echo ready; while :; do sleep 0.05; done"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(stdout)
	readUntil(t, br, "ready")
	if err := s.Signal(ssh.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	readUntil(t, br, "caught")
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.ExitStatus() != 4 {
		t.Fatalf("after the signal: %v", err)
	}
}
