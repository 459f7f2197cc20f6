package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// devProc is a `wsgate dev` process on free loopback ports.
type devProc struct {
	dir string
	url string
}

func startDevProc(t *testing.T) *devProc {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(wsgateBin, "dev", "--data-dir", dir, "--ssh-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("wsgate dev did not stop on SIGTERM:\n%s", out.String())
		}
	})
	var info struct {
		URL string `json:"url"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dir, "dev.json"))
		if err == nil && json.Unmarshal(b, &info) == nil && info.URL != "" {
			break
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("wsgate dev exited early: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("wsgate dev not ready after 30s:\n%s", out.String())
		}
	}
	return &devProc{dir: dir, url: info.URL}
}

// cli runs the wsgate CLI as a dev user.
func (d *devProc) cli(t *testing.T, user string, args ...string) string {
	t.Helper()
	tok, err := os.ReadFile(filepath.Join(d.dir, "users", user, "token"))
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(d.dir, "home", user)
	cmd := exec.CommandContext(t.Context(), wsgateBin, args...)
	cmd.Env = []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "PATH=" + os.Getenv("PATH"),
		"WSGATE_URL=" + d.url, "WSGATE_TOKEN=" + strings.TrimSpace(string(tok))}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wsgate %v as %s: %v\n%s", args, user, err, out)
	}
	return string(out)
}

// ssh runs OpenSSH with only the given config file and the dev user's key.
func (d *devProc) ssh(t *testing.T, user, config string, args ...string) (string, error) {
	t.Helper()
	base := []string{"-F", config,
		"-i", filepath.Join(d.dir, "users", user, "id_ed25519"),
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		// The entry's own known_hosts file and HostKeyAlias, written by
		// config-ssh, must be enough.
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"}
	cmd := exec.CommandContext(t.Context(), "ssh", append(base, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestConfigSSHRealSSH writes the managed block with config-ssh and connects
// through it with the real OpenSSH client, as the owner and, once shared,
// as a collaborator, by both aliases.
func TestConfigSSHRealSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh is missing")
		}
		t.Skip("ssh is missing")
	}
	d := startDevProc(t)
	aliceCfg := filepath.Join(d.dir, "alice_ssh_config")
	d.cli(t, "alice", "config-ssh", "--ssh-config-file", aliceCfg, "-y")
	out, err := d.ssh(t, "alice", aliceCfg, "alice-ws.coder", "echo", "$WSGATE_USER")
	if err != nil || strings.TrimSpace(out) != "alice" {
		t.Fatalf("ssh alice-ws.coder as alice: %v\n%s", err, out)
	}
	// The entry's cipher order decides: the gateway agrees to AES-GCM.
	verbose := exec.CommandContext(t.Context(), "ssh", "-v", "-F", aliceCfg,
		"-i", filepath.Join(d.dir, "users", "alice", "id_ed25519"), "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
		"alice-ws.coder", "true")
	if out, err := verbose.CombinedOutput(); err != nil || !strings.Contains(string(out), "cipher: aes128-gcm@openssh.com") {
		t.Errorf("ssh -v alice-ws.coder: %v, want cipher aes128-gcm@openssh.com negotiated:\n%s", err, out)
	}

	bobCfg := filepath.Join(d.dir, "bob_ssh_config")
	d.cli(t, "bob", "config-ssh", "--ssh-config-file", bobCfg, "-y")
	if b, err := os.ReadFile(bobCfg); err != nil || strings.Contains(string(b), "alice-ws") {
		t.Fatalf("bob's block names alice-ws before any share (%v):\n%s", err, b)
	}
	// Through alice's entry, bob's key is refused by the gateway.
	if out, err := d.ssh(t, "bob", aliceCfg, "alice-ws.coder", "true"); err == nil {
		t.Fatalf("bob reached alice-ws before any share:\n%s", out)
	}
	d.cli(t, "alice", "sharing", "share", "alice-ws", "--user", "bob")
	d.cli(t, "bob", "config-ssh", "--ssh-config-file", bobCfg, "-y")
	for _, host := range []string{"alice-ws.coder", "alice--alice-ws.coder"} {
		out, err := d.ssh(t, "bob", bobCfg, host, "echo", "$WSGATE_USER")
		if err != nil || strings.TrimSpace(out) != "bob" {
			t.Errorf("ssh %s as bob: %v\n%s", host, err, out)
		}
	}
}
