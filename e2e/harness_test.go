package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// requireTool skips when a client program is missing locally; under CI=true
// a missing tool is a failure, because .ci/run installs them.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI must install it)", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// proc is a wsgate process started by a test; it is stopped with SIGTERM in
// Cleanup and must exit by itself.
type proc struct {
	cmd  *exec.Cmd
	out  *testutil.Buffer
	done chan struct{}
	err  error
}

func startProc(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(wsgateBin, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, out: &testutil.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start wsgate %v: %v", args, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("output of wsgate %s:\n%s", strings.Join(args, " "), p.out.String())
		}
	})
	return p
}

// stop sends SIGTERM and waits; a process that does not exit in 15 s is a
// failed clean shutdown.
func (p *proc) stop(t testing.TB) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("wsgate %v did not stop within 15s of SIGTERM", p.cmd.Args[1:])
	}
}

// kill ends the process at once, as a crash would.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// devEnv is a running `wsgate dev`.
type devEnv struct {
	dir     string
	sshHost string
	sshPort string
	url     string
	proc    *proc
	// metricsURL is where /metrics is served: `wsgate server` serves it on
	// --metrics-addr, `wsgate dev` on its (loopback) HTTP port.
	metricsURL string
}

func startDev(t testing.TB, extra ...string) *devEnv {
	t.Helper()
	dir := t.TempDir()
	return startDevIn(t, dir, extra...)
}

func startDevIn(t testing.TB, dir string, extra ...string) *devEnv {
	t.Helper()
	return startDevEnv(t, dir, nil, extra...)
}

// startDevEnv is startDevIn with env added to the process's environment.
func startDevEnv(t testing.TB, dir string, env []string, extra ...string) *devEnv {
	t.Helper()
	args := append([]string{"dev", "--data-dir", dir, "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, extra...)
	p := startProc(t, env, args...)
	var info struct {
		SSHAddr  string `json:"ssh_addr"`
		HTTPAddr string `json:"http_addr"`
		URL      string `json:"url"`
	}
	testutil.WaitFor(t, 30*time.Second, "dev.json", func() bool {
		select {
		case <-p.done:
			t.Fatalf("wsgate dev exited early: %v\n%s", p.err, p.out.String())
		default:
		}
		b, err := os.ReadFile(filepath.Join(dir, "dev.json"))
		return err == nil && json.Unmarshal(b, &info) == nil
	})
	host, port, err := net.SplitHostPort(info.SSHAddr)
	if err != nil {
		t.Fatalf("dev.json ssh_addr %q: %v", info.SSHAddr, err)
	}
	return &devEnv{dir: dir, sshHost: host, sshPort: port, url: info.URL, proc: p}
}

// workspaceDir is where `wsgate dev` keeps alice-ws's files: next to the
// data dir (DATA_DIR-workspaces), never inside it.
func (d *devEnv) workspaceDir() string { return filepath.Join(d.dir+"-workspaces", "alice-ws") }

func (d *devEnv) key(user string) string { return filepath.Join(d.dir, "users", user, "id_ed25519") }

func (d *devEnv) token(t testing.TB, user string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.dir, "users", user, "token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// sshOpts are the options every OpenSSH client call gets: no user config,
// only the given key, the dev known_hosts, strict checking, no prompts.
func (d *devEnv) sshOpts(keyFile string) []string {
	return []string{
		"-F", "/dev/null",
		"-i", keyFile,
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "UserKnownHostsFile=" + filepath.Join(d.dir, "known_hosts"),
		"-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes",
		"-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=10",
	}
}

// sshArgs returns arguments for `ssh` as user to target.
func (d *devEnv) sshArgs(user, target string, extra ...string) []string {
	args := append(d.sshOpts(d.key(user)), "-p", d.sshPort, "-l", target)
	args = append(args, extra...)
	return append(args, d.sshHost)
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs a command with a deadline and returns its output and exit code.
func run(t testing.TB, timeout time.Duration, stdin io.Reader, name string, args ...string) result {
	t.Helper()
	return runWith(t, timeout, nil, stdin, name, args...)
}

// runWith is run with the environment env (nil: this process's).
func runWith(t testing.TB, timeout time.Duration, env []string, stdin io.Reader, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("%s %v: %v\nstderr: %s", name, args, err, stderr.String())
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish within %s\nstdout: %s\nstderr: %s", name, args, timeout, res.stdout, res.stderr)
	}
	return res
}

// cliEnv is the environment of a wsgate CLI call as user against the dev
// server's API (user "" gets a wrong token).
func (d *devEnv) cliEnv(t testing.TB, user string) []string {
	t.Helper()
	token := "wsg_not-a-real-token"
	if user != "" {
		token = d.token(t, user)
	}
	return append(os.Environ(), "WSGATE_URL="+d.url, "WSGATE_TOKEN="+token, "HOME="+t.TempDir())
}

// wsgateAs runs the wsgate CLI as user with stdin.
func (d *devEnv) wsgateAs(t testing.TB, user string, stdin io.Reader, args ...string) result {
	t.Helper()
	return runWith(t, 60*time.Second, d.cliEnv(t, user), stdin, wsgateBin, args...)
}

// wsgateCLI runs the wsgate CLI as user, without stdin.
func (d *devEnv) wsgateCLI(t testing.TB, user string, args ...string) result {
	t.Helper()
	return d.wsgateAs(t, user, nil, args...)
}

// sshRun runs `ssh <opts> host command...` for user on target.
func (d *devEnv) sshRun(t testing.TB, user, target string, stdin io.Reader, command ...string) result {
	t.Helper()
	args := append(d.sshArgs(user, target), command...)
	return run(t, 60*time.Second, stdin, "ssh", args...)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func mustContain(t testing.TB, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("%s: %q does not contain %q", what, got, want)
	}
}

// selfUser is the OS user running the tests, for `wsgate agent --run-as`:
// an agent running as root refuses to run sessions as root unless told.
func selfUser(t testing.TB) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}
