// Package testredis runs a real redis-server for tests: on a free loopback
// port (never 6379), in the test's temp dir, stopped when the test ends.
//
// When redis-server is not installed the test is skipped, except under
// CI=true, where a missing redis-server fails the test.
package testredis

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	startTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
)

// Server is one redis-server process.
type Server struct {
	bin     string
	port    int
	dir     string
	persist bool

	mu   sync.Mutex
	cmd  *exec.Cmd
	out  *syncBuffer
	exit chan struct{} // closed when cmd has exited
}

// Option changes how the server runs.
type Option func(*Server)

// WithPersistence keeps data across Restart (append-only file, fsync on
// every write) instead of the default in-memory only server.
func WithPersistence() Option { return func(s *Server) { s.persist = true } }

// Start runs redis-server and waits until it answers PING.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is not installed (required under CI=true): %v", err)
		}
		t.Skipf("redis-server is not installed: %v", err)
	}
	s := &Server{bin: bin, dir: t.TempDir()}
	for _, o := range opts {
		o(s)
	}
	// The port is free when we look, but another process may take it before
	// redis binds it; try a few ports.
	for attempt := 0; ; attempt++ {
		s.port, err = freePort()
		if err != nil {
			t.Fatalf("testredis: find a free port: %v", err)
		}
		err = s.start()
		if err == nil || attempt == 4 {
			break
		}
	}
	if err != nil {
		t.Fatalf("testredis: %v", err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("testredis: %v", err)
		}
	})
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is a redis:// URL for the server.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Restart stops the server and starts it again on the same port. Without
// WithPersistence the data is gone afterwards.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("testredis: restart: %v", err)
	}
	if err := s.start(); err != nil {
		t.Fatalf("testredis: restart: %v", err)
	}
}

// Stop stops the server (a later Restart starts it again).
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("testredis: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("redis-server on %s is already running", s.Addr())
	}
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--daemonize", "no",
		"--logfile", "",
		"--databases", "1",
	}
	if s.persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	out := &syncBuffer{}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exit := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exit)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		if err := ping(s.Addr()); err == nil {
			break
		}
		select {
		case <-exit:
			return fmt.Errorf("redis-server on port %d exited:\n%s", s.port, out.String())
		case <-time.After(10 * time.Millisecond): // poll until it answers
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exit
			return fmt.Errorf("redis-server on port %d did not answer PING within %v:\n%s", s.port, startTimeout, out.String())
		}
	}
	s.cmd, s.out, s.exit = cmd, out, exit
	return nil
}

// stop shuts the server down (SIGTERM, then SIGKILL) and waits for it.
func (s *Server) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, exit := s.cmd, s.exit
	s.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exit:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = cmd.Process.Kill()
	<-exit
	return fmt.Errorf("redis-server on port %d ignored SIGTERM for %v; killed", s.port, stopTimeout)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if port == 6379 {
		return freePort()
	}
	return port, nil
}

// ping sends a raw PING, so the helper needs no Redis client.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// syncBuffer collects the server's output for error messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
