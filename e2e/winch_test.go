package e2e

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// goClient dials the dev gateway with x/crypto/ssh as user on target, for
// protocol edges the OpenSSH client cannot be made to produce on demand.
func (d *devEnv) goClient(t testing.TB, user, target string) *ssh.Client {
	t.Helper()
	b, err := os.ReadFile(d.key(user))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	hostKeys, err := knownhosts.New(filepath.Join(d.dir, "known_hosts"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", net.JoinHostPort(d.sshHost, d.sshPort), &ssh.ClientConfig{
		User:            target,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial gateway as %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestWindowChangeBeforeShell: a client that resizes before it starts the
// shell (as terminals do while a window opens) must not hang the session,
// and the last size wins.
func TestWindowChangeBeforeShell(t *testing.T) {
	d := startDev(t)
	c := d.goClient(t, "alice", "alice-ws")
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{30, 100}, {40, 120}, {50, 132}} {
		if err := s.WindowChange(size[0], size[1]); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	s.Stdout = &out
	s.Stdin = strings.NewReader("stty size; exit\n")
	done := make(chan error, 1)
	go func() {
		if err := s.Shell(); err != nil {
			done <- err
			return
		}
		done <- s.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shell: %v (output %q)", err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("session hung after window-change before shell; output so far %q", out.String())
	}
	mustContain(t, "stty size", out.String(), "50 132")
}
