package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// BenchmarkSSH compares wsgate with a baseline of the same shape run in the
// same command: OpenSSH `ssh -J` through a local sshd to the same sshd
// (two SSH hops, like client → gateway → agent). Report ratios, not
// absolute numbers: these machines are noisy. "wsgate-tls" is the same
// gateway serving HTTPS (`wsgate dev --tls`), so its agent tunnel runs over
// TLS: the two wsgate rows give the cost of TLS on the tunnel.
//
//	go test -run '^$' -bench SSH -benchtime 20x ./e2e
func BenchmarkSSH(b *testing.B) {
	requireTool(b, "ssh")
	d := startDev(b)
	dTLS := startDev(b, "--tls")
	sshdCfg := startSSHD(b, d.key("alice"))

	targets := []struct{ name, config, host string }{
		{"wsgate", devSSHConfig(b, d), "wsgate"},
		{"wsgate-tls", devSSHConfig(b, dTLS), "wsgate"},
		{"sshd-J", sshdCfg, "target"},
	}
	for _, tg := range targets {
		b.Run("true/"+tg.name, func(b *testing.B) {
			for b.Loop() {
				if out, err := exec.Command("ssh", "-F", tg.config, tg.host, "true").CombinedOutput(); err != nil {
					b.Fatalf("ssh true: %v %s", err, out)
				}
			}
		})
	}
	const size = 1 << 30
	for _, tg := range targets {
		b.Run("head-1GiB/"+tg.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				cmd := exec.Command("ssh", "-F", tg.config, tg.host, fmt.Sprintf("head -c %d /dev/zero", size))
				devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				cmd.Stdout = devNull
				err = cmd.Run()
				devNull.Close()
				if err != nil {
					b.Fatalf("ssh head: %v", err)
				}
			}
		})
	}
}

// devSSHConfig is an ssh_config whose host "wsgate" is alice's workspace
// on d, as alice.
func devSSHConfig(b testing.TB, d *devEnv) string {
	return writeSSHConfig(b, fmt.Sprintf(`Host wsgate
  HostName %s
  Port %s
  User alice-ws
  IdentityFile %s
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile %s
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
`, d.sshHost, d.sshPort, d.key("alice"), filepath.Join(d.dir, "known_hosts")))
}

func writeSSHConfig(b testing.TB, text string) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "ssh_config")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// startSSHD runs OpenSSH's sshd on a free loopback port for the current OS
// user, accepting key, and returns an ssh_config with hosts "jump" and
// "target" (target reached with ProxyJump through jump).
func startSSHD(b testing.TB, key string) string {
	b.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		requireTool(b, "sshd")
		sshd, _ = exec.LookPath("sshd")
	}
	dir := b.TempDir()
	if r := run(b, 10*time.Second, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "host")); r.code != 0 {
		b.Fatal(r.stderr)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		b.Fatal(err)
	}
	// sshd wants its privilege separation directory.
	_ = os.MkdirAll("/run/sshd", 0o755)
	port := freePort(b)
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
LogLevel ERROR
`, port, dir, dir, dir)), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	var out testutil.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	user := os.Getenv("USER")
	if user == "" {
		user = "root"
	}
	cfg := writeSSHConfig(b, fmt.Sprintf(`Host jump target
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  BatchMode yes
  LogLevel ERROR
Host target
  ProxyJump jump
`, port, user, key))
	testutil.WaitFor(b, 10*time.Second, "sshd", func() bool {
		o, err := exec.Command("ssh", "-F", cfg, "target", "true").CombinedOutput()
		if err != nil && strings.Contains(out.String(), "fatal") {
			b.Fatalf("sshd: %s %s", out.String(), o)
		}
		return err == nil
	})
	return cfg
}
