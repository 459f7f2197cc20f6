package agent

import (
	"bufio"
	"bytes"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/tunnel/chanwire"
)

func TestExecExitStatus(t *testing.T) {
	client := dialConn(t, newTestAgent(t))

	err := newSession(t, client).Run("exit 7")
	var ee *exitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 7 {
		t.Fatalf("exit 7: got %v, want exit status 7", err)
	}
	if err := newSession(t, client).Run("true"); err != nil {
		t.Fatalf("true: %v", err)
	}
}

func TestExecStdinEOFEndsCat(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	s.Stdin = strings.NewReader("hi\n")
	out, err := s.Output("cat")
	if err != nil {
		t.Fatalf("cat: %v", err)
	}
	if string(out) != "hi\n" {
		t.Fatalf("cat printed %q, want %q", out, "hi\n")
	}
}

// All of stdout and stderr arrives before exit-status, even when the
// program writes a lot right before it exits.
func TestExecOutputBeforeExitStatus(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	err := s.Run("head -c 1048576 /dev/zero; printf oops >&2; exit 3")
	var ee *exitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 3 {
		t.Fatalf("got %v, want exit status 3", err)
	}
	if stdout.Len() != 1<<20 {
		t.Errorf("stdout: %d bytes, want %d", stdout.Len(), 1<<20)
	}
	if stderr.String() != "oops" {
		t.Errorf("stderr %q, want %q", stderr.String(), "oops")
	}
}

func TestExecEnvironment(t *testing.T) {
	t.Setenv("WSGATE_AGENT_SECRET", "must-not-leak")
	a := newTestAgent(t)
	client := dialConn(t, a)
	s := newSession(t, client)
	for _, kv := range [][2]string{{"LANG", "C.UTF-8"}, {"LC_TIME", "C"}, {"TERM", "dumb"}} {
		if err := s.Setenv(kv[0], kv[1]); err != nil {
			t.Fatalf("setenv %s: %v", kv[0], err)
		}
	}
	for _, k := range []string{"FOO", "WSGATE_USER", "LD_PRELOAD", "PATH"} {
		if err := s.Setenv(k, "evil"); err == nil {
			t.Errorf("setenv %s was accepted", k)
		}
	}
	out, err := s.Output(`printf '%s\n' "LANG=$LANG" "LC_TIME=$LC_TIME" "TERM=$TERM" "FOO=${FOO-unset}" ` +
		`"LD_PRELOAD=${LD_PRELOAD-unset}" "WSGATE_USER=$WSGATE_USER" "WSGATE_WORKSPACE=$WSGATE_WORKSPACE" ` +
		`"SECRET=${WSGATE_AGENT_SECRET-unset}" "PWD=$(pwd)" "HOME=$HOME" "USER=$USER" "SHELL=$SHELL"`)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		"LANG=C.UTF-8\n", "LC_TIME=C\n", "TERM=dumb\n", "FOO=unset\n", "LD_PRELOAD=unset\n",
		"WSGATE_USER=bob\n", "WSGATE_WORKSPACE=alice/alice-ws\n", "SECRET=unset\n",
		"PWD=" + a.cfg.Dir + "\n", "HOME=" + a.user.home + "\n", "USER=" + a.user.name + "\n",
		"SHELL=" + a.cfg.Shell + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("environment lacks %q:\n%s", want, got)
		}
	}
	if fi, err := filepath.Glob(a.cfg.Dir); err != nil || len(fi) != 1 {
		t.Errorf("start directory %s was not created", a.cfg.Dir)
	}
}

func TestSignalBecomesExitSignal(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	if err := s.Start("sleep 600"); err != nil {
		t.Fatal(err)
	}
	if err := s.Signal("TERM"); err != nil {
		t.Fatal(err)
	}
	err := s.Wait()
	var ee *exitError
	if !errors.As(err, &ee) || ee.Signal() != "TERM" {
		t.Fatalf("got %v, want exit-signal TERM", err)
	}
}

func TestUnknownRequestsRefused(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	if ok, err := s.SendRequest("nonsense@example.com", true, nil); err != nil || ok {
		t.Errorf("unknown session request: ok=%v err=%v, want refused", ok, err)
	}
	if ok, _, err := client.SendRequest("keepalive@openssh.com", true, nil); err != nil || ok {
		t.Errorf("keepalive: ok=%v err=%v, want a refusal (which still proves liveness)", ok, err)
	}
	if ok, err := s.SendRequest("subsystem", true, ssh.Marshal(struct{ Name string }{"nope"})); err != nil || ok {
		t.Errorf("unknown subsystem: ok=%v err=%v, want refused", ok, err)
	}
	// The session is still usable after the refusals.
	if err := s.Run("true"); err != nil {
		t.Fatalf("run after refusals: %v", err)
	}
	_, err := client.OpenChannel("x11", nil)
	var oce *chanwire.OpenChannelError
	if !errors.As(err, &oce) || oce.Reason != chanwire.UnknownChannelType {
		t.Errorf("x11 channel: %v, want an unknown-channel-type rejection", err)
	}
}

// Closing the session channel hangs up its program.
func TestSessionCloseHangsUpProgram(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
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
		t.Fatal(err)
	}
	s.Close()
	deadline := time.Now().Add(testTimeout)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("program %d still running after its channel closed", pid)
		}
		time.Sleep(10 * time.Millisecond) // polling a pid; there is nothing to wait on
	}
	// The connection is still good for another session.
	if err := newSession(t, client).Run("true"); err != nil {
		t.Fatal(err)
	}
}
