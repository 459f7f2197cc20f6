package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel/chanwire"
)

// testSession drives a session channel the way OpenSSH (and x/crypto's
// ssh.Session, whose API it copies) does: requests with replies, then
// stdin, stdout and stderr copied until the exit report and the close.
type testSession struct {
	t  *testing.T
	ch *chanwire.Channel

	Stdin          io.Reader
	Stdout, Stderr io.Writer

	stdinPiped, stdoutPiped bool
	started                 bool
	copies                  sync.WaitGroup
	reqsDone                chan struct{}

	mu   sync.Mutex
	exit *exitError // the exit-status or exit-signal received
}

// exitError is a program's non-zero exit status or its signal.
type exitError struct {
	status int
	signal string
}

func (e *exitError) Error() string {
	if e.signal != "" {
		return "exit-signal " + e.signal
	}
	return fmt.Sprintf("exit status %d", e.status)
}

func (e *exitError) ExitStatus() int { return e.status }
func (e *exitError) Signal() string  { return e.signal }

var errNoExitStatus = errors.New("channel closed without exit status")

// newSession opens a session channel on tc; a cleanup closes it.
func newSession(t *testing.T, tc *testClient) *testSession {
	t.Helper()
	ch, reqs, err := tc.cw.OpenChannel("session", nil)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	s := &testSession{t: t, ch: ch, reqsDone: make(chan struct{})}
	go s.serveRequests(reqs)
	t.Cleanup(func() { s.Close() })
	return s
}

func (s *testSession) serveRequests(reqs <-chan *chanwire.Request) {
	defer close(s.reqsDone)
	for req := range reqs {
		var e *exitError
		switch req.Type {
		case "exit-status":
			var p struct{ Status uint32 }
			if ssh.Unmarshal(req.Payload, &p) == nil {
				e = &exitError{status: int(p.Status)}
			}
		case "exit-signal":
			var p struct {
				Signal     string
				CoreDumped bool
				Message    string
				Lang       string
			}
			if ssh.Unmarshal(req.Payload, &p) == nil {
				e = &exitError{signal: p.Signal}
			}
		}
		if e != nil {
			s.mu.Lock()
			s.exit = e
			s.mu.Unlock()
		}
		_ = req.Reply(false, nil)
	}
}

func (s *testSession) Close() error { return s.ch.Close() }

// SendRequest sends a channel request.
func (s *testSession) SendRequest(name string, wantReply bool, payload []byte) (bool, error) {
	return s.ch.SendRequest(name, wantReply, payload)
}

// request sends a request that wants a reply; a refusal is an error.
func (s *testSession) request(name string, payload []byte) error {
	ok, err := s.ch.SendRequest(name, true, payload)
	if err == nil && !ok {
		err = fmt.Errorf("%s refused", name)
	}
	return err
}

func (s *testSession) Setenv(name, value string) error {
	return s.request("env", ssh.Marshal(struct{ Name, Value string }{name, value}))
}

// RequestPty asks for a terminal, encoded as OpenSSH and x/crypto do.
func (s *testSession) RequestPty(term string, h, w int, modes ssh.TerminalModes) error {
	var tm []byte
	for k, v := range modes {
		tm = append(tm, ssh.Marshal(struct {
			Key byte
			Val uint32
		}{k, v})...)
	}
	tm = append(tm, 0) // TTY_OP_END
	return s.request("pty-req", ssh.Marshal(ptyRequest{
		Term: term, Cols: uint32(w), Rows: uint32(h), Width: uint32(w * 8), Height: uint32(h * 8), Modes: string(tm),
	}))
}

func (s *testSession) WindowChange(h, w int) error {
	_, err := s.ch.SendRequest("window-change", false, ssh.Marshal(window{Cols: uint32(w), Rows: uint32(h), Width: uint32(w * 8), Height: uint32(h * 8)}))
	return err
}

func (s *testSession) Signal(name string) error {
	_, err := s.ch.SendRequest("signal", false, ssh.Marshal(struct{ Signal string }{name}))
	return err
}

// StdinPipe is the program's stdin; closing it sends eof.
func (s *testSession) StdinPipe() (io.WriteCloser, error) {
	s.stdinPiped = true
	return stdinPipe{s.ch}, nil
}

type stdinPipe struct{ ch *chanwire.Channel }

func (p stdinPipe) Write(b []byte) (int, error) { return p.ch.Write(b) }
func (p stdinPipe) Close() error                { return p.ch.CloseWrite() }

// StdoutPipe is the program's stdout, read straight from the channel.
func (s *testSession) StdoutPipe() (io.Reader, error) {
	s.stdoutPiped = true
	return s.ch, nil
}

func (s *testSession) Start(cmd string) error {
	return s.start("exec", ssh.Marshal(struct{ Command string }{cmd}))
}

func (s *testSession) Shell() error { return s.start("shell", nil) }

func (s *testSession) Subsystem(name string) error {
	return s.request("subsystem", ssh.Marshal(struct{ Name string }{name}))
}

func (s *testSession) start(typ string, payload []byte) error {
	if s.started {
		return errors.New("session already started")
	}
	if err := s.request(typ, payload); err != nil {
		return err
	}
	s.started = true
	if !s.stdinPiped {
		in := s.Stdin
		if in == nil {
			in = new(bytes.Buffer) // like x/crypto: no stdin is an immediate eof
		}
		go func() { // not waited for: the channel's close ends it
			_, _ = s.ch.ReadFrom(in)
			_ = s.ch.CloseWrite()
		}()
	}
	out, errOut := s.Stdout, s.Stderr
	if out == nil {
		out = io.Discard
	}
	if errOut == nil {
		errOut = io.Discard
	}
	if !s.stdoutPiped {
		s.copies.Add(1)
		go func() { defer s.copies.Done(); _, _ = io.Copy(out, s.ch) }()
	}
	s.copies.Add(1)
	go func() { defer s.copies.Done(); _, _ = io.Copy(errOut, s.ch.Stderr()) }()
	return nil
}

// Wait waits for the channel's close; the result is nil for exit status 0,
// an *exitError otherwise, errNoExitStatus without an exit report.
func (s *testSession) Wait() error {
	if !s.started {
		return errors.New("session not started")
	}
	<-s.reqsDone
	s.copies.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.exit == nil:
		return errNoExitStatus
	case s.exit.status == 0 && s.exit.signal == "":
		return nil
	}
	return s.exit
}

func (s *testSession) Run(cmd string) error {
	if err := s.Start(cmd); err != nil {
		return err
	}
	return s.Wait()
}

func (s *testSession) Output(cmd string) ([]byte, error) {
	var b bytes.Buffer
	s.Stdout = &b
	err := s.Run(cmd)
	return b.Bytes(), err
}

// CombinedOutput is stdout and stderr in one buffer.
func (s *testSession) CombinedOutput(cmd string) ([]byte, error) {
	var b testutil.Buffer // stdout and stderr are copied concurrently
	s.Stdout, s.Stderr = &b, &b
	err := s.Run(cmd)
	return []byte(b.String()), err
}
