package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// benchUser is the account sshd serves in BenchmarkSSH: shell /bin/sh and an
// empty home, so sessions pay for no startup files (root's .bashrc, read by
// bash even for `ssh host cmd`, costs more than the rest of a session).
// It is created with useradd when missing and deleted again by the run that
// created it; one left behind by a killed run is harmless (a system account
// without password, its home a removed temporary directory, so no
// authorized_keys) and is reused by the next run.
const benchUser = "wsgatebench"

// benchSSHD is OpenSSH's sshd on a loopback port serving benchUser.
type benchSSHD struct {
	port    int
	pid     int    // the listener: it forks a process per connection
	home    string // benchUser's home, holding authorized_keys
	hostPub string
}

// startBenchSSHD runs sshd with the pinned algorithms for benchUser; it
// skips b unless run as root (sshd must switch to benchUser).
func startBenchSSHD(b testing.TB) *benchSSHD {
	b.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		requireTool(b, "sshd")
		sshd, _ = exec.LookPath("sshd")
	}
	if os.Geteuid() != 0 {
		b.Skipf("BenchmarkSSH needs root: its sshd baseline serves a dedicated user %q with /bin/sh and an empty home (created with useradd), so that neither side pays for shell startup files", benchUser)
	}
	home := benchUserHome(b)
	dir := b.TempDir()
	if r := run(b, 10*time.Second, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "host")); r.code != 0 {
		b.Fatal(r.stderr)
	}
	hostPub, err := os.ReadFile(filepath.Join(dir, "host.pub"))
	if err != nil {
		b.Fatal(err)
	}
	// sshd wants its privilege separation directory.
	_ = os.MkdirAll("/run/sshd", 0o755)
	port := freePort(b)
	conf := filepath.Join(dir, "sshd_config")
	// Not the system's sshd_config: UsePAM no (no PAM session modules), no
	// motd or lastlog, no ~/.ssh/rc. MaxStartups: conns-per-sec opens 20
	// unauthenticated connections at once through the bastion (two each).
	if err := os.WriteFile(conf, fmt.Appendf(nil, `Port %d
ListenAddress 127.0.0.1
HostKey %s/host
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
AllowUsers %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowTcpForwarding yes
PrintMotd no
PrintLastLog no
PermitUserRC no
UseDNS no
MaxStartups 100
Ciphers %s
KexAlgorithms %s
LogLevel ERROR
`, port, dir, dir, home, benchUser, benchCipherList(), benchKex), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	var out testutil.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if b.Failed() {
			b.Logf("sshd output:\n%s", out.String())
		}
	})
	testutil.WaitFor(b, 10*time.Second, "sshd listening", func() bool {
		if cmd.ProcessState != nil || strings.Contains(out.String(), "fatal") {
			b.Fatalf("sshd: %s", out.String())
		}
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return &benchSSHD{port: port, pid: cmd.Process.Pid, home: home, hostPub: strings.TrimSpace(string(hostPub))}
}

// authorize lets the key (a private key file next to its .pub) log in as
// benchUser.
func (s *benchSSHD) authorize(b testing.TB, key string) {
	b.Helper()
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(s.home, "authorized_keys")
	if err := os.WriteFile(p, pub, 0o600); err != nil {
		b.Fatal(err)
	}
	u := lookupBenchUser(b)
	if err := os.Chown(p, u.uid, u.gid); err != nil {
		b.Fatal(err)
	}
}

// sshConfig is an ssh_config with hosts "direct" (the sshd) and "target"
// (the same sshd through "jump", the same sshd again, with ProxyJump). The
// ProxyJump child reads this file, not our -o options, so the algorithms
// are pinned here, for every host.
func (s *benchSSHD) sshConfig(b testing.TB, key, cipher string) string {
	b.Helper()
	kh := filepath.Join(b.TempDir(), "known_hosts")
	if err := os.WriteFile(kh, fmt.Appendf(nil, "[127.0.0.1]:%d %s\n", s.port, s.hostPub), 0o600); err != nil {
		b.Fatal(err)
	}
	return writeSSHConfig(b, fmt.Sprintf(`Host target
  ProxyJump jump
Host jump direct target
  HostName 127.0.0.1
  Port %d
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile %s
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
  Ciphers %s
  KexAlgorithms %s
`, s.port, benchUser, key, kh, cipher, benchKex))
}

func benchCipherList() string {
	var names []string
	for _, c := range benchCiphers {
		names = append(names, c.algo)
	}
	return strings.Join(names, ",")
}

type benchAccount struct{ uid, gid int }

func lookupBenchUser(b testing.TB) benchAccount {
	b.Helper()
	u, err := user.Lookup(benchUser)
	if err != nil {
		b.Fatalf("look up %s: %v", benchUser, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		b.Fatalf("%s ids: %v", benchUser, err)
	}
	return benchAccount{uid, gid}
}

// benchUserHome makes benchUser exist with shell /bin/sh and a fresh empty
// home, which it returns. The password "*" is no password, where useradd's
// default "!" is a locked account that sshd refuses even with a key.
func benchUserHome(b testing.TB) string {
	b.Helper()
	// Not b.TempDir: its parents are 0700, and sshd reads authorized_keys
	// as benchUser.
	home, err := os.MkdirTemp("", benchUser+"-home-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(home) })
	if err := os.Chmod(home, 0o755); err != nil {
		b.Fatal(err)
	}
	var uerr user.UnknownUserError
	_, err = user.Lookup(benchUser)
	switch {
	case errors.As(err, &uerr):
		benchUserCmd(b, "useradd", "--system", "--shell", "/bin/sh", "--home-dir", home, "--no-create-home", "--password", "*", benchUser)
		b.Cleanup(func() {
			if r := run(b, 30*time.Second, nil, "userdel", benchUser); r.code != 0 {
				b.Errorf("userdel %s: %d %s", benchUser, r.code, r.stderr)
			}
		})
	case err != nil:
		b.Fatalf("look up %s: %v", benchUser, err)
	default:
		benchUserCmd(b, "usermod", "--shell", "/bin/sh", "--home", home, "--password", "*", benchUser)
	}
	u := lookupBenchUser(b)
	if err := os.Chown(home, u.uid, u.gid); err != nil {
		b.Fatal(err)
	}
	return home
}

func benchUserCmd(b testing.TB, name string, args ...string) {
	b.Helper()
	if r := run(b, 30*time.Second, nil, name, args...); r.code != 0 {
		b.Fatalf("%s %v: %d %s", name, args, r.code, r.stderr)
	}
}
