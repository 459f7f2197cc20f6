package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl/filestore"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/devca"
	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/internal/tlsconf"
)

// loopbackHosts are the names the test certificates are issued for.
var loopbackHosts = []string{"127.0.0.1", "localhost"}

// makeCA makes a fresh throwaway CA in dir with a server certificate for
// the loopback addresses.
func makeCA(t testing.TB, dir string) devca.Files {
	t.Helper()
	f, err := devca.Ensure(dir, loopbackHosts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// reissue makes another server certificate (new key, new serial) signed by
// the CA in caDir: the CA and its key are copied into a fresh directory,
// where devca keeps them and issues a leaf for hosts.
func reissue(t testing.TB, caDir string, hosts ...string) devca.Files {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{devca.CAFile, devca.CAKeyFile} {
		b, err := os.ReadFile(filepath.Join(caDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := devca.Ensure(dir, hosts)
	if err != nil {
		t.Fatal(err)
	}
	ca1, _ := os.ReadFile(filepath.Join(caDir, devca.CAFile))
	ca2, _ := os.ReadFile(f.CA)
	if string(ca1) != string(ca2) {
		t.Fatal("devca made a new CA instead of reusing the copied one")
	}
	return f
}

// copyFile copies src to dst (mode 0600) through a rename, as a
// certificate rotation would.
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// tlsClientConfig trusts caFile (besides the system roots), as the CLI does.
func tlsClientConfig(t testing.TB, caFile string) *tls.Config {
	t.Helper()
	cfg, err := tlsconf.ClientConfig(caFile)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// httpsClient is an HTTP client that trusts caFile.
func httpsClient(t testing.TB, caFile string) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: tlsClientConfig(t, caFile)}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// servedSerial opens a new TLS connection to addr, verifying it against
// caFile, and returns the serial of the certificate it was given.
func servedSerial(t testing.TB, addr, caFile string) *big.Int {
	t.Helper()
	cfg := tlsClientConfig(t, caFile)
	cfg.ServerName = "127.0.0.1"
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

// certSerial is the serial of the certificate pair in f.
func certSerial(t testing.TB, f devca.Files) *big.Int {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return c.SerialNumber
}

// seedServerDir writes the revocation world into a file store in dir (no
// server runs yet) and returns alice-ws's agent token.
func seedServerDir(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := filestore.Open(filepath.Join(dir, "wsgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	tokens := seedRevokeStore(t, st, dir)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return tokens[aliceWS]
}

// tlsEnv is a `wsgate server` serving HTTPS with a certificate from a test
// CA; ca is that CA's certificate file.
type tlsEnv struct {
	*devEnv
	ca       string
	httpAddr string
}

// startTLSServer runs `wsgate server` over dir with the certificate pair
// certFile/keyFile on free loopback ports and waits for its health over
// HTTPS (trusting caFile).
func startTLSServer(t testing.TB, dir, caFile, certFile, keyFile string, extra ...string) *tlsEnv {
	t.Helper()
	sshPort, httpPort := freePort(t), freePort(t)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	args := append([]string{"server", "--data-dir", dir,
		"--ssh-addr", fmt.Sprintf("127.0.0.1:%d", sshPort), "--http-addr", httpAddr,
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--metrics-addr", "127.0.0.1:0"}, extra...)
	p := startProc(t, nil, args...)
	url := "https://" + httpAddr
	client := httpsClient(t, caFile)
	testutil.WaitFor(t, 20*time.Second, "server health over https", func() bool {
		select {
		case <-p.done:
			t.Fatalf("wsgate server exited: %v\n%s", p.err, p.out.String())
		default:
		}
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	writeKnownHosts(t, dir, sshPort)
	return &tlsEnv{
		devEnv:   &devEnv{dir: dir, sshHost: "127.0.0.1", sshPort: fmt.Sprint(sshPort), url: url, proc: p},
		ca:       caFile,
		httpAddr: httpAddr,
	}
}

// writeKnownHosts pins the server's host key in dir/known_hosts for its
// SSH port (and, with more ports, for those too, e.g. a proxy's).
func writeKnownHosts(t testing.TB, dir string, ports ...int) {
	t.Helper()
	pub, err := os.ReadFile(filepath.Join(dir, "host_ed25519.pub"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, port := range ports {
		fmt.Fprintf(&b, "[127.0.0.1]:%d %s", port, pub)
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cliEnv is devEnv's CLI environment plus the CA in WSGATE_CA_FILE.
func (e *tlsEnv) cliEnv(t testing.TB, user string) []string {
	t.Helper()
	return append(e.devEnv.cliEnv(t, user), "WSGATE_CA_FILE="+e.ca, "XDG_CONFIG_HOME=")
}

// cli runs the wsgate CLI as user trusting the CA, and fails the test
// unless it succeeds.
func (e *tlsEnv) cli(t testing.TB, user string, args ...string) string {
	t.Helper()
	r := runWith(t, 60*time.Second, e.cliEnv(t, user), nil, wsgateBin, args...)
	if r.code != 0 {
		t.Fatalf("wsgate %s as %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), user, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// shellSession is a remote `sh` kept open (over ssh, or over `wsgate ssh`)
// that runs one command per call, so a test can use the same session
// before and after something happens on the gateway.
type shellSession struct {
	name  string
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	done  chan struct{}
	err   error
}

// startShell runs name with args (ending in the remote command "sh") and
// env (nil: this process's), and checks that it answers.
func startShell(t testing.TB, what string, env []string, name string, args ...string) *shellSession {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testutil.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &shellSession{name: what, cmd: cmd, in: in, lines: make(chan string, 16), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("%s stderr: %s", what, stderr.String())
		}
	})
	s.ask(t, "echo hello", "hello")
	return s
}

// ask runs command in the session and checks its one line of output.
func (s *shellSession) ask(t testing.TB, command, want string) {
	t.Helper()
	if _, err := io.WriteString(s.in, command+"\n"); err != nil {
		t.Fatalf("%s: write %q: %v", s.name, command, err)
	}
	select {
	case line, ok := <-s.lines:
		if !ok {
			<-s.done
			t.Fatalf("%s ended (%v) before answering %q", s.name, s.err, command)
		}
		if line != want {
			t.Fatalf("%s: %q answered %q, want %q", s.name, command, line, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no answer to %q within 20s", s.name, command)
	}
}

// connections returns who is connected to alice/alice-ws, as alice sees it
// with `wsgate workspaces connections -o json`.
func connections(t testing.TB, env []string) []apitypes.Connection {
	t.Helper()
	r := runWith(t, 30*time.Second, env, nil, wsgateBin, "workspaces", "connections", "alice/alice-ws", "-o", "json")
	var conns []apitypes.Connection
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &conns) != nil {
		t.Fatalf("workspaces connections: %+v", r)
	}
	return conns
}

// waitConnections waits until the connections of alice/alice-ws number n
// and returns them.
func waitConnections(t testing.TB, env []string, n int) []apitypes.Connection {
	t.Helper()
	var conns []apitypes.Connection
	testutil.WaitFor(t, 20*time.Second, fmt.Sprintf("%d connections", n), func() bool {
		conns = connections(t, env)
		return len(conns) == n
	})
	return conns
}

// remoteHosts returns the host part of each connection's remote address,
// by how it came (via "ssh" or "https").
func remoteHosts(t testing.TB, conns []apitypes.Connection) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, c := range conns {
		host, _, err := net.SplitHostPort(c.RemoteAddr)
		if err != nil {
			t.Fatalf("connection %+v: remote_addr: %v", c, err)
		}
		out[c.Via] = append(out[c.Via], host)
	}
	return out
}
