package agent

import (
	"bufio"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestPtyTermAndSize(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	if err := s.RequestPty("xterm-256color", 40, 100, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err := s.Output(`echo "term=$TERM"; stty size; tty`)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{"term=xterm-256color\r\n", "40 100\r\n", "/dev/pts/"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%q", want, got)
		}
	}
}

// The terminal's output is relayed byte for byte: with output processing
// off, a bare "\n" must not become "\r\n" (gliderlabs' session does that).
func TestPtyOutputNotRewritten(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err := s.Output(`stty -opost; printf 'a\nb\n'`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(out), "a\nb\n") {
		t.Fatalf("output %q, want it to end in %q", out, "a\nb\n")
	}
}

// shellConsole drives an interactive pty shell: it types lines and reports
// every "rows cols" line that stty size prints.
type shellConsole struct {
	t     *testing.T
	in    io.Writer
	sizes chan string
}

// sizeLine matches stty size's answer; readline may put terminal control
// sequences ending in \r before it on the same line.
var sizeLine = regexp.MustCompile(`(?:^|\r)(\d+ \d+)\r?$`)

func newShellConsole(t *testing.T, s *testSession) *shellConsole {
	t.Helper()
	in, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &shellConsole{t: t, in: in, sizes: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := sizeLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case c.sizes <- m[1]:
				default:
				}
			}
		}
	}()
	return c
}

// waitSize asks for the terminal size until it reads want.
func (c *shellConsole) waitSize(want string) {
	c.t.Helper()
	deadline := time.After(testTimeout)
	var last string
	for {
		if _, err := io.WriteString(c.in, "stty size\n"); err != nil {
			c.t.Fatalf("type into shell: %v", err)
		}
		select {
		case last = <-c.sizes:
			if last == want {
				return
			}
		case <-deadline:
			c.t.Fatalf("terminal size: last saw %q, want %q", last, want)
		}
	}
}

// A burst of window-change requests before the shell starts must neither
// block the request loop nor be lost: the shell starts with the last size.
// Later changes resize the running terminal.
func TestPtyWindowChangeBeforeAndAfterShell(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		if err := s.WindowChange(40+i, 100+i); err != nil {
			t.Fatal(err)
		}
	}
	c := newShellConsole(t, s)
	started := make(chan error, 1)
	go func() { started <- s.Shell() }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("shell: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("shell request hung after window-change requests")
	}
	c.waitSize("50 110")

	if err := s.WindowChange(30, 90); err != nil {
		t.Fatal(err)
	}
	c.waitSize("30 90")

	if _, err := io.WriteString(c.in, "exit 5\n"); err != nil {
		t.Fatal(err)
	}
	err := s.Wait()
	if ee, ok := err.(*exitError); !ok || ee.ExitStatus() != 5 {
		t.Fatalf("shell exit: %v, want status 5", err)
	}
}

func TestPtySignalReachesForegroundShell(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("echo ready; exec sleep 600"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "ready") {
		t.Fatalf("read ready: %q %v", line, err)
	}
	if err := s.Signal("KILL"); err != nil {
		t.Fatal(err)
	}
	err = s.Wait()
	ee, ok := err.(*exitError)
	if !ok || ee.Signal() != "KILL" {
		t.Fatalf("got %v, want exit-signal KILL", err)
	}
}

// The client's terminal modes are applied to the pty.
func TestPtyTerminalModes(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	modes := ssh.TerminalModes{ssh.VERASE: 8, ssh.ECHO: 0, ssh.IUTF8: 1}
	if err := s.RequestPty("xterm", 24, 80, modes); err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("stty -a")
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{"erase = ^H;", " -echo ", " iutf8"} {
		if !strings.Contains(got, want) {
			t.Errorf("stty -a lacks %q:\n%s", want, got)
		}
	}
}

// A pty session's output is complete when the program exits right after
// writing a lot of it.
func TestPtyOutputComplete(t *testing.T) {
	client := dialConn(t, newTestAgent(t))
	s := newSession(t, client)
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("seq 1 30000")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\r\n"); len(lines) != 30000 || lines[29999] != "30000" {
		t.Fatalf("got %d lines ending %q", len(lines), lines[len(lines)-1])
	}
}
