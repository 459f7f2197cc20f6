package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/agent/agentkey"
	"github.com/wsgate/wsgate/internal/testutil"
)

// readmeSection returns the ```sh blocks of README.md's section title, in
// order.
func readmeSection(t *testing.T, title string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", title)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var blocks []string
	for {
		_, rest, ok := strings.Cut(sec, "\n```sh\n")
		if !ok {
			return blocks
		}
		block, after, ok := strings.Cut(rest, "\n```\n")
		if !ok {
			t.Fatalf("unterminated code block in %q", title)
		}
		blocks = append(blocks, block)
		sec = after
	}
}

// TestReadmeWalkthrough runs the commands of README.md's "Share a
// workspace" as written, in one bash, in a fresh directory, with the built
// binary on PATH as wsgate. Only the ports change (free ones, and a
// metrics port of its own), and sudo is a shim that runs its arguments:
// tests run as root. It removes what the walk-through creates: the OS
// user alice-ws (unless it existed before), /etc/wsgate/alice-ws.token and
// the agent's key in /var/lib/wsgate/agent.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "ssh", "scp", "curl", "useradd", "userdel"} {
		requireTool(t, tool)
	}
	if os.Geteuid() != 0 {
		t.Skip("the walk-through runs the agent with sudo and --run-as: run as root")
	}
	blocks := readmeSection(t, "Share a workspace")
	if len(blocks) < 5 {
		t.Fatalf("found %d code blocks in the walk-through", len(blocks))
	}
	sshPort, httpPort, metricsPort := freePort(t), freePort(t), freePort(t)
	script := strings.NewReplacer(
		"127.0.0.1:2222", fmt.Sprintf("127.0.0.1:%d", sshPort),
		"--http-addr 127.0.0.1:8080", fmt.Sprintf("--http-addr 127.0.0.1:%d --metrics-addr 127.0.0.1:%d", httpPort, metricsPort),
		"127.0.0.1:8080", fmt.Sprintf("127.0.0.1:%d", httpPort),
	).Replace(strings.Join(blocks, "\n"))
	if strings.Contains(script, "2222") || strings.Contains(script, "8080") {
		t.Fatalf("a port is left in the walk-through:\n%s", script)
	}

	// What the walk-through makes outside its directory.
	_, lookupErr := user.Lookup("alice-ws")
	userExisted := lookupErr == nil
	keyFile := filepath.Join(agentkey.DefaultDir(), agentkey.FileName("alice/alice-ws"))
	_, etcErr := os.Stat("/etc/wsgate")
	os.Remove(keyFile) // a killed run's key was pinned by another gateway
	t.Cleanup(func() {
		os.Remove("/etc/wsgate/alice-ws.token")
		if etcErr != nil {
			os.Remove("/etc/wsgate")
		}
		os.Remove(keyFile)
		if !userExisted {
			if out, err := exec.Command("userdel", "-r", "alice-ws").CombinedOutput(); err != nil {
				t.Errorf("userdel alice-ws: %v %s", err, out)
			}
		}
	})

	dir, home, bin := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.Symlink(wsgateBin, filepath.Join(bin, "wsgate")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "sudo"), []byte("#!/bin/sh\nexec \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	scriptFile := filepath.Join(t.TempDir(), "walkthrough.sh")
	if err := os.WriteFile(scriptFile, []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outFile, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd := exec.Command("bash", scriptFile)
	cmd.Dir = dir
	env := []string{"HOME=" + home, "PATH=" + bin + ":" + os.Getenv("PATH"), "LANG=C.UTF-8", "TERM=dumb"}
	cmd.Env = env
	// A file, not a pipe: the gateway and the agent outlive bash with it.
	cmd.Stdout, cmd.Stderr = outFile, outFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	stopGroup := func() {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		testutil.WaitFor(t, 20*time.Second, "the walk-through's processes to exit", func() bool {
			return errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
		})
	}
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err = errors.New("did not finish within 60s")
	}
	took := time.Since(start)
	stopGroup()
	out, _ := os.ReadFile(outFile.Name())
	logs := ""
	for _, f := range []string{"server.log", "agent.log"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		logs += "\n--- " + f + ":\n" + string(b)
	}
	if err != nil {
		t.Fatalf("walk-through: %v after %s\n%s%s", err, took, out, logs)
	}
	for _, want := range []string{
		"alice in alice/alice-ws as alice-ws\n", "bob in alice/alice-ws\n", "\nhello\n",
		"bob over https\nexit 3\n", "bob via ProxyCommand\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the walk-through's output lacks %q:\n%s%s", want, out, logs)
		}
	}
	t.Logf("walk-through ran in %s", took.Round(time.Millisecond))
}
