package e2e

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// TestStreamLocalForward: `ssh -L PORT:SOCKET` and `ssh -R SOCKET:HOST:PORT`
// (direct-streamlocal@openssh.com and streamlocal-forward@openssh.com)
// carry bytes both ways and EOF through the gateway, and are refused to a
// user without access and to a certificate without permit-port-forwarding,
// like TCP forwarding.
func TestStreamLocalForward(t *testing.T) {
	requireTool(t, "ssh")
	requireTool(t, "ssh-keygen")
	ca := filepath.Join(t.TempDir(), "ca")
	if r := run(t, 10*time.Second, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ca); r.code != 0 {
		t.Fatalf("ssh-keygen: %s", r.stderr)
	}
	d := startDev(t, "--user-ca-keys", ca+".pub")
	wsDir := d.workspaceDir()
	alice := d.sshOpts(d.key("alice"))

	t.Run("local_to_socket", func(t *testing.T) {
		// The socket server runs "in the workspace": the agent is on this
		// machine, so a socket of the test under the workspace's directory
		// is one it can reach.
		sock := filepath.Join(wsDir, "echo.sock")
		accepted := serveEchoUnix(t, sock)
		port := freePort(t)
		fwd := startForward(t, d, alice, "-L", fmt.Sprintf("127.0.0.1:%d:%s", port, sock))
		c := fwd.dialLocal(t, port)
		if err := echoExchange(c, 256<<10); err != nil {
			t.Fatalf("through -L to %s: %v (echo server accepted %d)\nssh stderr: %s", sock, err, accepted.Load(), fwd.stderr.String())
		}
	})

	t.Run("remote_socket", func(t *testing.T) {
		// The "laptop" side: an echo server the client's ssh connects to for
		// each connection to the socket the agent listens on.
		laptop := listen(t)
		go serveEcho(laptop)
		sock := filepath.Join(wsDir, "remote.sock")
		fwd := startForward(t, d, alice, "-R", sock+":"+laptop.Addr().String())
		// The socket file appears at bind, a moment before the listen:
		// wait for a connection, not for the file.
		var c net.Conn
		testutil.WaitFor(t, 15*time.Second, "the agent's socket "+sock, func() bool {
			if fwd.exited() {
				t.Fatalf("ssh -R exited: %v\nstderr: %s", fwd.err, fwd.stderr.String())
			}
			var err error
			c, err = net.Dial("unix", sock)
			return err == nil
		})
		defer c.Close()
		if err := echoExchange(c, 256<<10); err != nil {
			t.Fatalf("through -R %s: %v\nssh stderr: %s", sock, err, fwd.stderr.String())
		}
		// The listener goes with the connection that asked for it.
		fwd.stop()
		testutil.WaitFor(t, 15*time.Second, "the agent to stop listening on "+sock, func() bool {
			c, err := net.Dial("unix", sock)
			if err == nil {
				c.Close()
			}
			return err != nil
		})
	})

	// Refused users: the channel open fails as administratively prohibited
	// and no remote socket appears.
	refused := func(t *testing.T, opts []string) {
		t.Run("local", func(t *testing.T) {
			sock := filepath.Join(wsDir, "g.sock")
			accepted := serveEchoUnix(t, sock)
			port := freePort(t)
			fwd := startForward(t, d, opts, "-L", fmt.Sprintf("127.0.0.1:%d:%s", port, sock))
			c := fwd.dialLocal(t, port)
			c.SetDeadline(time.Now().Add(15 * time.Second))
			// ssh closes the connection when the open fails; a reset is a close too.
			if b, err := io.ReadAll(c); len(b) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
				t.Fatalf("forward refused? read %q, %v", b, err)
			}
			testutil.WaitFor(t, 15*time.Second, "ssh's channel open failure", func() bool {
				return strings.Contains(fwd.stderr.String(), "open failed")
			})
			mustContain(t, "ssh -L stderr", fwd.stderr.String(), "open failed: administratively prohibited")
			if n := accepted.Load(); n != 0 {
				t.Fatalf("the socket server accepted %d connections", n)
			}
		})
		t.Run("remote", func(t *testing.T) {
			sock := filepath.Join(wsDir, "g-remote.sock")
			r := run(t, 30*time.Second, nil, "ssh", forwardArgs(d, opts, "-R", sock+":"+listen(t).Addr().String())...)
			if r.code == 0 {
				t.Fatalf("ssh -R succeeded (stderr %q)", r.stderr)
			}
			mustContain(t, "ssh -R stderr", r.stderr, "remote port forwarding failed")
			if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the refused forward's socket exists: %v", err)
			}
		})
	}
	t.Run("no_access", func(t *testing.T) {
		// bob may not reach alice-ws: he is refused while authenticating,
		// so neither forward is ever asked for and no socket appears.
		sock := filepath.Join(wsDir, "g-noaccess.sock")
		for _, fwd := range [][]string{
			{"-L", fmt.Sprintf("127.0.0.1:%d:%s", freePort(t), filepath.Join(wsDir, "g.sock"))},
			{"-R", sock + ":" + listen(t).Addr().String()},
		} {
			r := run(t, 30*time.Second, nil, "ssh", forwardArgs(d, d.sshOpts(d.key("bob")), fwd...)...)
			if r.code != 255 {
				t.Fatalf("ssh %s: code %d, want 255 (stderr %q)", fwd[0], r.code, r.stderr)
			}
			mustContain(t, "ssh "+fwd[0]+" stderr", r.stderr, `wsgate: workspace "alice-ws" not found or access denied`)
		}
		if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the refused forward's socket exists: %v", err)
		}
	})
	t.Run("cert_without_port_forwarding", func(t *testing.T) {
		key := filepath.Join(t.TempDir(), "nofwd")
		for _, args := range [][]string{
			{"-q", "-t", "ed25519", "-N", "", "-f", key},
			{"-q", "-s", ca, "-I", "nofwd", "-n", "alice", "-V", "-5m:+1h", "-O", "no-port-forwarding", key + ".pub"},
		} {
			if r := run(t, 10*time.Second, nil, "ssh-keygen", args...); r.code != 0 {
				t.Fatalf("ssh-keygen %v: %s", args, r.stderr)
			}
		}
		refused(t, append(d.sshOpts(key), "-o", "CertificateFile="+key+"-cert.pub"))
	})
}

// forward is a running `ssh -N` that holds forwards open.
type forward struct {
	cmd    *exec.Cmd
	stderr *testutil.Buffer
	done   chan struct{}
	err    error
}

// startForward starts `ssh -N` to alice-ws with opts and the forwarding
// arguments fwdArgs.
func startForward(t testing.TB, d *devEnv, opts []string, fwdArgs ...string) *forward {
	t.Helper()
	f := &forward{cmd: exec.Command("ssh", forwardArgs(d, opts, fwdArgs...)...), stderr: &testutil.Buffer{}, done: make(chan struct{})}
	f.cmd.Stderr = f.stderr
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		f.err = f.cmd.Wait()
		close(f.done)
	}()
	t.Cleanup(f.stop)
	return f
}

// forwardArgs are the arguments of `ssh -N` to alice-ws with opts and
// fwdArgs; ExitOnForwardFailure makes a refused remote forward end it.
func forwardArgs(d *devEnv, opts []string, fwdArgs ...string) []string {
	// OpenSSH logs a failed channel open at INFO; it takes the first value
	// of an option, so sshOpts' LogLevel=ERROR is replaced.
	args := make([]string, 0, len(opts)+len(fwdArgs)+8)
	for _, o := range opts {
		if o == "LogLevel=ERROR" {
			o = "LogLevel=INFO"
		}
		args = append(args, o)
	}
	args = append(args, "-p", d.sshPort, "-l", "alice-ws", "-N", "-o", "ExitOnForwardFailure=yes")
	return append(append(args, fwdArgs...), d.sshHost)
}

func (f *forward) exited() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

func (f *forward) stop() {
	_ = f.cmd.Process.Kill()
	<-f.done
}

// dialLocal waits for ssh to listen on the local forward's port and
// returns a connection to it.
func (f *forward) dialLocal(t testing.TB, port int) net.Conn {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var c net.Conn
	testutil.WaitFor(t, 15*time.Second, "ssh listening on "+addr, func() bool {
		if f.exited() {
			t.Fatalf("ssh -L exited: %v\nstderr: %s", f.err, f.stderr.String())
		}
		var err error
		c, err = net.Dial("tcp", addr)
		return err == nil
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// serveEchoUnix listens on a unix socket at path with serveEcho and counts
// the connections it accepts.
func serveEchoUnix(t testing.TB, path string) *atomic.Int64 {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go serveEcho(countingListener{ln, &n})
	return &n
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// serveEcho echoes each connection's bytes and, once it reads EOF, writes
// "|read N bytes" and closes: the reply shows that bytes went both ways
// and that the client's half-close arrived, and the client's EOF shows the
// close came back.
func serveEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			n, _ := io.Copy(c, c)
			io.WriteString(c, "|read "+strconv.FormatInt(n, 10)+" bytes")
		}()
	}
}

// echoExchange writes size random bytes to a serveEcho connection and
// half-closes it, and checks that it reads back the bytes, the server's
// count, and EOF.
func echoExchange(c net.Conn, size int) error {
	hc, ok := c.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("%T cannot half-close", c)
	}
	payload := make([]byte, size)
	rand.Read(payload)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(payload)
		if err == nil {
			err = hc.CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		return fmt.Errorf("read after %d bytes: %w", len(got), err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	want := append(payload, fmt.Sprintf("|read %d bytes", size)...)
	if !bytes.Equal(got, want) {
		return fmt.Errorf("read %d bytes ending %q, want the %d echoed and %q", len(got), tail(got), size, want[size:])
	}
	return nil
}

func tail(b []byte) []byte {
	if len(b) > 24 {
		return b[len(b)-24:]
	}
	return b
}
