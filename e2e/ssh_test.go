package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

// TestSSHSessions drives one `wsgate dev` with the OpenSSH client as alice,
// the workspace owner.
func TestSSHSessions(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t)
	wsDir := d.workspaceDir()

	t.Run("exit_status", func(t *testing.T) {
		r := d.sshRun(t, "alice", "alice-ws", nil, "exit 7")
		if r.code != 7 {
			t.Fatalf("exit code %d, want 7 (stderr %q)", r.code, r.stderr)
		}
	})

	t.Run("stdin_eof_ends_cat", func(t *testing.T) {
		r := d.sshRun(t, "alice", "alice-ws", strings.NewReader("hi\n"), "cat")
		if r.code != 0 || r.stdout != "hi\n" {
			t.Fatalf("got %q code %d stderr %q", r.stdout, r.code, r.stderr)
		}
	})

	t.Run("stderr_and_env", func(t *testing.T) {
		r := d.sshRun(t, "alice", "alice-ws", nil, `echo "$WSGATE_USER $WSGATE_WORKSPACE $(pwd)"; echo oops >&2`)
		if r.code != 0 {
			t.Fatalf("code %d stderr %q", r.code, r.stderr)
		}
		want := "alice alice/alice-ws " + wsDir + "\n"
		if r.stdout != want || r.stderr != "oops\n" {
			t.Fatalf("stdout %q (want %q), stderr %q", r.stdout, want, r.stderr)
		}
	})

	t.Run("target_forms", func(t *testing.T) {
		for _, target := range []string{"alice-ws", "alice/alice-ws", "alice--alice-ws", "alice-ws.coder", "alice--alice-ws.coder"} {
			r := d.sshRun(t, "alice", target, nil, "echo ok")
			if r.code != 0 || r.stdout != "ok\n" {
				t.Errorf("target %q: code %d stdout %q stderr %q", target, r.code, r.stdout, r.stderr)
			}
		}
	})

	t.Run("pty_shell", func(t *testing.T) {
		// -tt forces a remote pty although our stdin is a pipe; the shell
		// reads the script line by line like typing.
		in := strings.NewReader("echo tty=$(tty)\nexit 3\n")
		r := run(t, 30*time.Second, in, "ssh", d.sshArgs("alice", "alice-ws", "-tt")...)
		if r.code != 3 {
			t.Fatalf("exit code %d, want 3; stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
		mustContain(t, "pty output", r.stdout, "tty=/dev/pts/")
	})

	t.Run("large_transfer_both_ways", func(t *testing.T) {
		const size = 256 << 20
		// Upload: 256 MiB of random data through stdin, hashed remotely.
		src := filepath.Join(t.TempDir(), "up.bin")
		want := writeRandomFile(t, src, size)
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := d.sshRun(t, "alice", "alice-ws", f, "sha256sum")
		if r.code != 0 || !strings.HasPrefix(r.stdout, want) {
			t.Fatalf("remote sha256 %q, want %s (code %d, stderr %q)", r.stdout, want, r.code, r.stderr)
		}
		// Download: the same bytes read back by cat.
		if err := os.Rename(src, filepath.Join(wsDir, "down.bin")); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(filepath.Join(wsDir, "down.bin"))
		cmd := exec.Command("ssh", append(d.sshArgs("alice", "alice-ws"), "cat down.bin")...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, out)
		if werr := cmd.Wait(); err != nil || werr != nil {
			t.Fatalf("download: copy %v, ssh %v", err, werr)
		}
		if got := hex.EncodeToString(h.Sum(nil)); n != size || got != want {
			t.Fatalf("downloaded %d bytes with sha256 %s, want %d and %s", n, got, size, want)
		}
	})

	t.Run("scp_both_ways", func(t *testing.T) {
		requireTool(t, "scp")
		local := filepath.Join(t.TempDir(), "a.txt")
		if err := os.WriteFile(local, []byte("scp payload\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"sftp", "legacy"} {
			extra := []string{}
			if mode == "legacy" {
				extra = []string{"-O"} // the old scp protocol: `scp -t` runs remotely
			}
			remoteName := "scp-" + mode + ".txt"
			args := append(append(d.sshOpts(d.key("alice")), "-P", d.sshPort), extra...)
			r := run(t, 30*time.Second, nil, "scp", append(args, local, "alice-ws@"+d.sshHost+":"+remoteName)...)
			if r.code != 0 {
				t.Fatalf("scp %s upload: %d %q", mode, r.code, r.stderr)
			}
			if b, err := os.ReadFile(filepath.Join(wsDir, remoteName)); err != nil || string(b) != "scp payload\n" {
				t.Fatalf("uploaded file %q, %v", b, err)
			}
			back := filepath.Join(t.TempDir(), "back.txt")
			r = run(t, 30*time.Second, nil, "scp", append(args, "alice-ws@"+d.sshHost+":"+remoteName, back)...)
			if b, err := os.ReadFile(back); r.code != 0 || err != nil || string(b) != "scp payload\n" {
				t.Fatalf("scp %s download: code %d %q, file %q %v", mode, r.code, r.stderr, b, err)
			}
		}
	})

	t.Run("sftp_both_ways", func(t *testing.T) {
		requireTool(t, "sftp")
		tmp := t.TempDir()
		local := filepath.Join(tmp, "s.txt")
		if err := os.WriteFile(local, []byte("sftp payload\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		batch := fmt.Sprintf("put %s sftp-up.txt\nget sftp-up.txt %s\nls\n", local, filepath.Join(tmp, "s-back.txt"))
		args := append(append(d.sshOpts(d.key("alice")), "-P", d.sshPort, "-b", "-"), "alice-ws@"+d.sshHost)
		r := run(t, 30*time.Second, strings.NewReader(batch), "sftp", args...)
		if r.code != 0 {
			t.Fatalf("sftp: %d %q %q", r.code, r.stdout, r.stderr)
		}
		if b, err := os.ReadFile(filepath.Join(wsDir, "sftp-up.txt")); err != nil || string(b) != "sftp payload\n" {
			t.Fatalf("uploaded %q %v", b, err)
		}
		if b, err := os.ReadFile(filepath.Join(tmp, "s-back.txt")); err != nil || string(b) != "sftp payload\n" {
			t.Fatalf("downloaded %q %v", b, err)
		}
	})

	t.Run("rsync", func(t *testing.T) {
		requireTool(t, "rsync")
		src := t.TempDir()
		for i := range 5 {
			if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("f%d", i)), bytes.Repeat([]byte{byte('a' + i)}, 10000*(i+1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rsh := "ssh " + strings.Join(append(d.sshOpts(d.key("alice")), "-p", d.sshPort), " ")
		r := run(t, 60*time.Second, nil, "rsync", "-a", "-e", rsh, src+"/", "alice-ws@"+d.sshHost+":rsync-dst/")
		if r.code != 0 {
			t.Fatalf("rsync: %d %q", r.code, r.stderr)
		}
		for i := range 5 {
			b, err := os.ReadFile(filepath.Join(wsDir, "rsync-dst", fmt.Sprintf("f%d", i)))
			if err != nil || len(b) != 10000*(i+1) {
				t.Fatalf("f%d: %d bytes, %v", i, len(b), err)
			}
		}
	})

	t.Run("local_forward_http_and_half_close", func(t *testing.T) {
		// A server "in the workspace": the agent runs on this machine, so
		// a loopback listener of the test is reachable from it.
		httpLn := listen(t)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "hello from the workspace")
		})}
		go srv.Serve(httpLn)
		defer srv.Close()
		// serveCountAfterEOF replies with the number of bytes it read, after EOF: it
		// only answers if the client's half-close reaches it.
		countLn := listen(t)
		go serveCountAfterEOF(countLn)

		lHTTP, lCount := freePort(t), freePort(t)
		fwd := exec.Command("ssh", d.sshArgs("alice", "alice-ws", "-N",
			"-o", "ExitOnForwardFailure=yes",
			"-L", fmt.Sprintf("127.0.0.1:%d:%s", lHTTP, httpLn.Addr()),
			"-L", fmt.Sprintf("127.0.0.1:%d:%s", lCount, countLn.Addr()))...)
		if err := fwd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { fwd.Process.Kill(); fwd.Wait() }()
		testutil.WaitFor(t, 10*time.Second, "local forward", func() bool {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", lHTTP))
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", lHTTP))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello from the workspace" {
			t.Fatalf("body %q", body)
		}

		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", lCount))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		payload := bytes.Repeat([]byte("x"), 100000)
		if _, err := c.Write(payload); err != nil {
			t.Fatal(err)
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		reply, err := io.ReadAll(c)
		if err != nil || string(reply) != "read 100000 bytes" {
			t.Fatalf("reply %q, %v", reply, err)
		}
	})

	t.Run("remote_forward", func(t *testing.T) {
		requireTool(t, "bash")
		local := listen(t)
		go func() {
			for {
				c, err := local.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, "hello from the laptop\n")
				c.Close()
			}
		}()
		rport := freePort(t)
		// The remote command retries briefly: the forward is set up by a
		// global request that may complete just after the shell starts.
		script := fmt.Sprintf(`for i in $(seq 50); do if exec 3<>/dev/tcp/127.0.0.1/%d; then cat <&3; exit 0; fi 2>/dev/null; sleep 0.1; done; exit 9`, rport)
		args := append(d.sshArgs("alice", "alice-ws", "-o", "ExitOnForwardFailure=yes",
			"-R", fmt.Sprintf("127.0.0.1:%d:%s", rport, local.Addr())), "bash", "-c", shellQuote(script))
		r := run(t, 30*time.Second, nil, "ssh", args...)
		if r.code != 0 || r.stdout != "hello from the laptop\n" {
			t.Fatalf("code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("agent_forwarding", func(t *testing.T) {
		requireTool(t, "ssh-agent")
		requireTool(t, "ssh-add")
		sock := filepath.Join(t.TempDir(), "agent.sock")
		ag := exec.Command("ssh-agent", "-D", "-a", sock)
		if err := ag.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { ag.Process.Kill(); ag.Wait() }()
		testutil.WaitFor(t, 5*time.Second, "ssh-agent socket", func() bool { _, err := os.Stat(sock); return err == nil })
		add := exec.Command("ssh-add", d.key("bob"))
		add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("ssh-add: %v %s", err, out)
		}
		fp := run(t, 10*time.Second, nil, "ssh-keygen", "-lf", d.key("bob")+".pub").stdout
		fingerprint := strings.Fields(fp)[1]
		// OpenSSH takes the first value of an option, so the default
		// IdentityAgent=none is replaced rather than overridden.
		args := d.sshArgs("alice", "alice-ws", "-A")
		for i, a := range args {
			if a == "IdentityAgent=none" {
				args[i] = "IdentityAgent=" + sock
			}
		}
		r := run(t, 30*time.Second, nil, "ssh", append(args, "ssh-add -l")...)
		if r.code != 0 {
			t.Fatalf("ssh-add -l inside: %d %q %q", r.code, r.stdout, r.stderr)
		}
		mustContain(t, "forwarded agent keys", r.stdout, fingerprint)
	})
}

func writeRandomFile(t testing.TB, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	if _, err := io.CopyN(w, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func serveCountAfterEOF(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			n, _ := io.Copy(io.Discard, c)
			io.WriteString(c, "read "+strconv.FormatInt(n, 10)+" bytes")
		}()
	}
}

// shellQuote quotes s for the remote shell, which receives the command line
// as one string.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
