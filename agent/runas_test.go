package agent

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	sshagent "golang.org/x/crypto/ssh/agent"

	"github.com/wsgate/wsgate/internal/testutil"
)

// testSFTPServerArg makes this test binary serve SFTP on stdin/stdout, as
// `wsgate agent sftp-server` does (see TestMain).
const testSFTPServerArg = "agent-test-sftp-server"

func serveTestSFTP() {
	dir, err := os.Getwd()
	if err == nil {
		err = ServeSFTP(os.Stdin, os.Stdout, dir)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintln(os.Stderr, "sftp server:", err)
		os.Exit(1)
	}
}

const runAsTestUser = "wsgate-e2e-bob"

// newRunAsAgent is an agent (running as root) whose sessions run as the
// OS user wsgate-e2e-bob, in a fresh directory in bob's home that the
// agent creates as bob.
func newRunAsAgent(t *testing.T) (*Agent, *user.User) {
	t.Helper()
	bob := testutil.OSUser(t, runAsTestUser)
	dir := filepath.Join(bob.HomeDir, "agent-test-"+strconv.Itoa(os.Getpid())+"-"+t.Name())
	t.Cleanup(func() { os.RemoveAll(dir) })
	a, err := New(Config{
		Workspace:   "alice/alice-ws",
		Dir:         dir,
		Logger:      testLogger(t),
		RunAs:       runAsTestUser,
		SFTPCommand: []string{"/proc/self/exe", testSFTPServerArg},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, bob
}

func ownerOf(t *testing.T, path string) (uid int, perm os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid), fi.Mode().Perm()
}

func TestRunAsConfig(t *testing.T) {
	testutil.OSUser(t, runAsTestUser)
	_, err := New(Config{Dir: t.TempDir(), RunAs: runAsTestUser})
	if err == nil || !strings.Contains(err.Error(), "SFTPCommand") {
		t.Fatalf("RunAs another user without SFTPCommand: %v, want a refusal", err)
	}
	if _, err := New(Config{Dir: t.TempDir(), RunAs: "wsgate-no-such-user"}); err == nil {
		t.Fatal("RunAs an unknown user accepted")
	}
}

// Shells and commands run as the run-as user, with their identity in the
// environment; the start directory and the files they make are theirs.
func TestRunAsSession(t *testing.T) {
	a, bob := newRunAsAgent(t)
	uid, gid := testutil.IDs(t, bob)
	client := dialConn(t, a)
	out, err := newSession(t, client).CombinedOutput(`id -u; id -g; echo "$HOME $USER $LOGNAME"; pwd; touch made-by-exec`)
	if err != nil {
		t.Fatalf("exec: %v\n%s", err, out)
	}
	want := fmt.Sprintf("%d\n%d\n%s %s %s\n%s\n", uid, gid, bob.HomeDir, bob.Username, bob.Username, a.cfg.Dir)
	if string(out) != want {
		t.Fatalf("session as %s printed\n%s\nwant\n%s", bob.Username, out, want)
	}
	for _, p := range []string{a.cfg.Dir, filepath.Join(a.cfg.Dir, "made-by-exec")} {
		if owner, _ := ownerOf(t, p); owner != uid {
			t.Errorf("%s owned by uid %d, want %d", p, owner, uid)
		}
	}

	// With a terminal, the terminal is the user's too.
	s := newSession(t, client)
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err = s.Output(`id -u; stat -c %u "$(tty)"`)
	if got := strings.Fields(string(out)); err != nil || len(got) != 2 || got[0] != bob.Uid || got[1] != bob.Uid {
		t.Fatalf("pty session: %q %v, want uid %s and a terminal owned by it", out, err, bob.Uid)
	}
}

// SFTP runs as the user: uploads are theirs, and root's private files stay
// closed to it.
func TestRunAsSFTP(t *testing.T) {
	a, bob := newRunAsAgent(t)
	uid, _ := testutil.IDs(t, bob)
	if err := os.WriteFile(filepath.Join(a.cfg.Dir, "roots-secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSession(t, dialConn(t, a))
	if err := s.Subsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	sc, err := sftp.NewClientPipe(s.ch, s.ch)
	if err != nil {
		t.Fatalf("sftp: %v", err)
	}
	defer sc.Close()
	// Relative paths start in the session's home, bob's.
	f, err := sc.Create(filepath.Join(a.cfg.Dir, "up.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if owner, _ := ownerOf(t, filepath.Join(a.cfg.Dir, "up.txt")); owner != uid {
		t.Errorf("uploaded file owned by uid %d, want %d", owner, uid)
	}
	if g, err := sc.Open(filepath.Join(a.cfg.Dir, "roots-secret")); err == nil {
		g.Close()
		t.Fatal("sftp opened a file of root's with mode 0600")
	}
}

// Unix-socket forwards and -R listeners are the user's: a socket file -R
// creates is theirs, and neither a socket nor a place only root may reach
// is reachable; a TCP port below the unprivileged range is refused.
func TestRunAsSockets(t *testing.T) {
	a, bob := newRunAsAgent(t)
	uid, _ := testutil.IDs(t, bob)
	client := dialConn(t, a)

	if ok, err := streamlocalForward(client, "fwd.sock"); err != nil || !ok {
		t.Fatalf("streamlocal-forward in the workspace: ok=%v err=%v", ok, err)
	}
	if owner, _ := ownerOf(t, filepath.Join(a.cfg.Dir, "fwd.sock")); owner != uid {
		t.Errorf("-R socket owned by uid %d, want %d", owner, uid)
	}
	rootOnly := t.TempDir() // 0700 root
	if ok, _ := streamlocalForward(client, filepath.Join(rootOnly, "fwd.sock")); ok {
		t.Error("-R created a socket in a directory only root may write")
	}

	// ssh -L to sockets: root's (mode 0755 from the umask: no write for
	// others) refused, one opened to everyone reached.
	private := filepath.Join(a.cfg.Dir, "root.sock")
	halfCloseUnixServer(t, private)
	open := filepath.Join(a.cfg.Dir, "open.sock")
	halfCloseUnixServer(t, open)
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if ch, err := client.dialUnix(private); err == nil {
		ch.Close()
		t.Error("direct-streamlocal reached a socket only root may connect to")
	}
	ch, err := client.dialUnix(open)
	if err != nil {
		t.Fatalf("direct-streamlocal to an open socket: %v", err)
	}
	if got := askHalfClosed(t, ch, "hi"); got != "got:hi" {
		t.Errorf("answer %q", got)
	}
	ch.Close()

	start, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if n, _ := strconv.Atoi(strings.TrimSpace(string(start))); err == nil && n > 1 {
		if ok, _, _ := client.SendRequest("tcpip-forward", true, ssh.Marshal(forwardRequest{Addr: "127.0.0.1", Port: 1})); ok {
			t.Error("-R bound privileged port 1 for the user")
		}
	}
	port := listenTCP(t, client, "127.0.0.1", 0)
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		t.Fatalf("dial -R port: %v", err)
	}
	c.Close()
}

// The forwarded agent's directory and socket belong to the user, 0700 and
// 0600, and the user's programs can use it.
func TestRunAsAgentForwarding(t *testing.T) {
	haveCommand(t, "ssh-add")
	a, bob := newRunAsAgent(t)
	client := dialConn(t, a)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyring := sshagent.NewKeyring()
	if err := keyring.Add(sshagent.AddedKey{PrivateKey: priv, Comment: "alice@laptop"}); err != nil {
		t.Fatal(err)
	}
	client.forwardAgent(keyring)
	s := newSession(t, client)
	if err := s.request("auth-agent-req@openssh.com", nil); err != nil {
		t.Fatal(err)
	}
	out, err := s.CombinedOutput(`stat -c '%u %a' "$(dirname "$SSH_AUTH_SOCK")" "$SSH_AUTH_SOCK"; ssh-add -l`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := bob.Uid + " 700\n" + bob.Uid + " 600\n"
	if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "alice@laptop") {
		t.Fatalf("agent socket as the user:\n%s\nwant it to start with\n%s and list the key", out, want)
	}
}
