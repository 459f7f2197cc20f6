package agent

import (
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsgate/wsgate/tunnel"
)

func TestMain(m *testing.M) {
	// The run-as tests use this binary as Config.SFTPCommand.
	if len(os.Args) > 1 && os.Args[1] == testSFTPServerArg {
		serveTestSFTP()
		return
	}
	goleak.VerifyTestMain(m)
}

const testTimeout = 15 * time.Second

// testLogWriter sends agent logs to the test log; the agent is closed in a
// cleanup, so nothing logs after the test is over.
type testLogWriter struct {
	t  *testing.T
	mu sync.Mutex
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(&testLogWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newTestAgent starts an agent for alice/alice-ws whose shells start in a
// fresh directory; it is closed when the test ends.
func newTestAgent(t *testing.T) *Agent {
	t.Helper()
	cfg := Config{
		Workspace:  "alice/alice-ws",
		Dir:        filepath.Join(t.TempDir(), "ws"),
		Home:       filepath.Join(t.TempDir(), "home"),
		Logger:     testLogger(t),
		RuntimeDir: filepath.Join(t.TempDir(), "run"),
	}
	if executable("/bin/bash") {
		cfg.Shell = "/bin/bash"
	}
	if err := os.Mkdir(cfg.Home, 0o755); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close agent: %v", err)
		}
	})
	return a
}

// streamPair returns the two ends of a real loopback TCP connection: the
// first is given to HandleStream(h) in a goroutine, the second is returned.
// A cleanup closes it and waits for HandleStream to return.
func streamPair(t *testing.T, a *Agent, h tunnel.Header) *net.TCPConn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan struct{})
	accepted := make(chan error, 1)
	go func() {
		defer close(served)
		c, err := ln.Accept()
		accepted <- err
		if err != nil {
			return
		}
		a.HandleStream(c, h)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		select {
		case <-served:
		case <-time.After(testTimeout):
			t.Errorf("HandleStream did not return after its stream closed")
		}
	})
	return c.(*net.TCPConn)
}

// halfCloseServer listens on loopback; each connection is read until EOF
// and then answered with "got:" and what was read, proving the EOF crossed
// as a half-close while the way back stayed open.
func halfCloseServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveHalfClose(t, ln)
	return ln.Addr().String()
}

// serveHalfClose answers every connection on ln as halfCloseServer says,
// until the test ends.
func serveHalfClose(t *testing.T, ln net.Listener) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(testTimeout))
				b, err := io.ReadAll(c)
				if err != nil {
					return
				}
				_, _ = c.Write(append([]byte("got:"), b...))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
}

// halfCloseConn is a connection that can shut down its write side alone:
// a TCP connection, a chanwire channel.
type halfCloseConn interface {
	io.ReadWriter
	CloseWrite() error
}

// askHalfClosed writes msg, half-closes, and returns the whole answer.
func askHalfClosed(t *testing.T, c halfCloseConn, msg string) string {
	t.Helper()
	if d, ok := c.(interface{ SetDeadline(time.Time) error }); ok {
		_ = d.SetDeadline(time.Now().Add(testTimeout))
	}
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatalf("close write: %v", err)
	}
	b, err := readAllTimeout(t, c)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	return string(b)
}

// readAllTimeout is io.ReadAll that fails the test after testTimeout (a
// channel has no deadlines).
func readAllTimeout(t *testing.T, r io.Reader) ([]byte, error) {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		done <- result{b, err}
	}()
	select {
	case res := <-done:
		return res.b, res.err
	case <-time.After(testTimeout):
		t.Fatal("read did not end")
		return nil, nil
	}
}

func haveCommand(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required under CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
}
