package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigSSHHostStar: with a `Host *` that sets User and Port already in
// the config, config-ssh's entries still win, name the key registered to
// the account found in ~/.ssh, and carry the gateway's host key: plain
// `ssh alice-ws.coder` works with strict host key checking, without -i,
// both directly and with --use-https.
func TestConfigSSHHostStar(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)
	if r := d.wsgateCLI(t, "alice", "sharing", "share", "alice-ws", "--user", "bob"); r.code != 0 {
		t.Fatalf("share: %+v", r)
	}
	home := t.TempDir()
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"", ".pub"} {
		b, err := os.ReadFile(d.key("bob") + ext)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sshDir, "id_ed25519"+ext), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := append(d.cliEnv(t, "bob"), "HOME="+home)
	for _, mode := range []string{"direct", "use-https"} {
		t.Run(mode, func(t *testing.T) {
			cfg := filepath.Join(sshDir, "config-"+mode)
			star := "Host *\n  User nobody\n  Port 1\n  StrictHostKeyChecking yes\n"
			if err := os.WriteFile(cfg, []byte(star), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"config-ssh", "-y", "--ssh-config-file", cfg}
			if mode == "use-https" {
				args = append(args, "--use-https")
			}
			if r := runWith(t, 30*time.Second, env, nil, wsgateBin, args...); r.code != 0 {
				t.Fatalf("config-ssh: %+v", r)
			}
			for _, host := range []string{"alice-ws.coder", "alice--alice-ws.coder"} {
				cmd := exec.Command("ssh", "-F", cfg, "-o", "BatchMode=yes", "-o", "IdentityAgent=none", host, "echo $WSGATE_USER")
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				if err != nil || string(out) != "bob\n" {
					b, _ := os.ReadFile(cfg)
					t.Fatalf("ssh %s: %v\n%s\nconfig:\n%s", host, err, out, b)
				}
			}
			b, _ := os.ReadFile(cfg)
			mustContain(t, "config", string(b), "  IdentityFile "+filepath.Join(sshDir, "id_ed25519")+"\n")
			if !strings.HasSuffix(string(b), "\n"+star) {
				t.Errorf("the user's Host * block moved:\n%s", b)
			}
		})
	}
}
