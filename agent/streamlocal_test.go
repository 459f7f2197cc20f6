package agent

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// halfCloseUnixServer is halfCloseServer on a unix socket at path.
func halfCloseUnixServer(t *testing.T, path string) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	serveHalfClose(t, ln)
}

// ssh -L PORT:SOCKET: the answer comes back after the client's half-close,
// with absolute paths and paths relative to the workspace directory.
func TestDirectStreamlocalHalfClose(t *testing.T) {
	a := newTestAgent(t)
	abs := filepath.Join(t.TempDir(), "app.sock")
	halfCloseUnixServer(t, abs)
	halfCloseUnixServer(t, filepath.Join(a.cfg.Dir, "rel.sock"))
	client := dialConn(t, a)
	for _, path := range []string{abs, "rel.sock"} {
		ch, err := client.dialUnix(path)
		if err != nil {
			t.Fatalf("direct-streamlocal %s: %v", path, err)
		}
		if got := askHalfClosed(t, ch, "via "+path); got != "got:via "+path {
			t.Errorf("%s: answer %q", path, got)
		}
		ch.Close()
	}
	_, err := client.dialUnix(filepath.Join(t.TempDir(), "nobody-listens.sock"))
	var oce *chanwire.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != chanwire.ConnectionFailed {
		t.Fatalf("dial missing socket: %v, want a connect-failed rejection", err)
	}
}

func streamlocalForward(client *testClient, path string) (bool, error) {
	ok, _, err := client.SendRequest("streamlocal-forward@openssh.com", true, ssh.Marshal(streamlocalRequest{path}))
	return ok, err
}

// ssh -R SOCKET:HOST:PORT: a connection to the agent-side socket reaches
// the client as forwarded-streamlocal with the path it asked for; cancel
// removes the socket file.
func TestStreamlocalForward(t *testing.T) {
	a := newTestAgent(t)
	client := dialConn(t, a)
	for _, path := range []string{filepath.Join(t.TempDir(), "fwd.sock"), "rel-fwd.sock"} {
		if ok, err := streamlocalForward(client, path); err != nil || !ok {
			t.Fatalf("streamlocal-forward %s: ok=%v err=%v", path, ok, err)
		}
		onDisk := path
		if !filepath.IsAbs(path) {
			onDisk = filepath.Join(a.cfg.Dir, path)
		}
		if ok, _ := streamlocalForward(client, path); ok {
			t.Errorf("%s: a second forward on the same path succeeded", path)
		}
		c, err := net.Dial("unix", onDisk)
		if err != nil {
			t.Fatalf("dial forwarded socket: %v", err)
		}
		nc := client.nextIncoming()
		var p struct{ SocketPath, Reserved string }
		if nc.ChannelType() != "forwarded-streamlocal@openssh.com" || ssh.Unmarshal(nc.ExtraData(), &p) != nil || p.SocketPath != path {
			t.Fatalf("agent opened %s %+v, want forwarded-streamlocal for %s", nc.ChannelType(), p, path)
		}
		served := serveIncoming(t, nc)
		if got := askHalfClosed(t, c.(*net.UnixConn), "over -R"); got != "got:over -R" {
			t.Errorf("answer %q", got)
		}
		if err := <-served; err != nil {
			t.Fatalf("client side: %v", err)
		}
		c.Close()

		ok, _, err := client.SendRequest("cancel-streamlocal-forward@openssh.com", true, ssh.Marshal(streamlocalRequest{path}))
		if err != nil || !ok {
			t.Fatalf("cancel: ok=%v err=%v", ok, err)
		}
		if _, err := os.Stat(onDisk); !os.IsNotExist(err) {
			t.Fatalf("socket %s still there after cancel: %v", onDisk, err)
		}
	}
	if ok, _, _ := client.SendRequest("cancel-streamlocal-forward@openssh.com", true, ssh.Marshal(streamlocalRequest{"never.sock"})); ok {
		t.Error("cancel of an unknown forward succeeded")
	}
}

// A forward's socket goes away with its connection; an existing file is
// not replaced.
func TestStreamlocalForwardEndsWithConnection(t *testing.T) {
	a := newTestAgent(t)
	client := dialConn(t, a)
	path := filepath.Join(t.TempDir(), "fwd.sock")
	if ok, err := streamlocalForward(client, path); err != nil || !ok {
		t.Fatalf("streamlocal-forward: ok=%v err=%v", ok, err)
	}
	taken := filepath.Join(t.TempDir(), "taken")
	if err := os.WriteFile(taken, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, _ := streamlocalForward(client, taken); ok {
		t.Error("streamlocal-forward replaced an existing file")
	}
	client.Close()
	deadline := time.Now().Add(testTimeout)
	for {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("forward socket outlived its connection")
		}
		time.Sleep(10 * time.Millisecond) // polling a file; there is nothing to wait on
	}
	if b, err := os.ReadFile(taken); err != nil || string(b) != "keep me" {
		t.Fatalf("existing file: %q %v", b, err)
	}
}
