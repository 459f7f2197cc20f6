package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/testutil"
)

// What an untrusted gateway certificate must tell the user.
const (
	unknownAuthority = "x509: certificate signed by unknown authority"
	caFileHint       = "--ca-file"
)

// TestHTTPSGateway: with `wsgate server` serving HTTPS from a private CA,
// the CLI trusts that CA from `login --ca-file` (stored) and from
// WSGATE_CA_FILE; the agent dials it with --ca-file and serves OpenSSH
// sessions; `wsgate ssh` and the ProxyCommand reach the workspace over
// https. With another CA, the CLI, `wsgate ssh` and the agent fail saying
// to pass --ca-file, and the agent exits by itself.
func TestHTTPSGateway(t *testing.T) {
	requireTool(t, "ssh")
	tmp := t.TempDir()
	ca := makeCA(t, filepath.Join(tmp, "ca"))
	wrong := makeCA(t, filepath.Join(tmp, "wrong-ca"))
	dir := filepath.Join(tmp, "server")
	agentToken := seedServerDir(t, dir)
	e := startTLSServer(t, dir, ca.CA, ca.Cert, ca.Key)
	if !strings.HasPrefix(e.url, "https://") {
		t.Fatalf("url %q", e.url)
	}

	// GET /api/v1/info needs no sign-in and names the https access URL.
	resp, err := httpsClient(t, ca.CA).Get(e.url + "/api/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	var info apitypes.Info
	err = json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || info.AccessURL != e.url {
		t.Fatalf("GET /api/v1/info: %s %+v %v", resp.Status, info, err)
	}

	// A fresh user: no stored login, nothing in the environment.
	home := func() []string {
		return append(os.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME=",
			"WSGATE_URL=", "WSGATE_TOKEN=", "WSGATE_CA_FILE=")
	}
	wsgate := func(env []string, args ...string) result {
		t.Helper()
		return runWith(t, 30*time.Second, env, nil, wsgateBin, args...)
	}
	untrusted := func(what string, r result) {
		t.Helper()
		if r.code == 0 {
			t.Fatalf("%s succeeded with an untrusted certificate: %+v", what, r)
		}
		mustContain(t, what, r.stderr, unknownAuthority)
		mustContain(t, what, r.stderr, caFileHint)
	}

	t.Run("login_ca_file", func(t *testing.T) {
		env := home()
		r := wsgate(env, "login", e.url, "--token", e.token(t, "alice"), "--ca-file", ca.CA)
		if r.code != 0 || !strings.Contains(r.stdout, "Logged in to "+e.url+" as alice") {
			t.Fatalf("login --ca-file: %+v", r)
		}
		// Later commands trust the stored CA with nothing else given.
		if r := wsgate(env, "list"); r.code != 0 || !strings.Contains(r.stdout, "alice/alice-ws") {
			t.Fatalf("list after login: %+v", r)
		}
		// WSGATE_CA_FILE overrides the stored CA.
		untrusted("list with WSGATE_CA_FILE of another CA", wsgate(append(env, "WSGATE_CA_FILE="+wrong.CA), "list"))

		// Logging in with the wrong CA fails and stores nothing.
		env = home()
		untrusted("login --ca-file of another CA", wsgate(env, "login", e.url, "--token", e.token(t, "alice"), "--ca-file", wrong.CA))
		untrusted("login without a CA", wsgate(env, "login", e.url, "--token", e.token(t, "alice")))
		if r := wsgate(env, "list"); r.code == 0 || !strings.Contains(r.stderr, "not logged in") {
			t.Fatalf("list after failed logins: %+v", r)
		}
	})

	t.Run("env_ca_file", func(t *testing.T) {
		if out := e.cli(t, "alice", "list"); !strings.Contains(out, "alice/alice-ws") {
			t.Fatalf("list with WSGATE_CA_FILE: %q", out)
		}
		untrusted("list without a CA", runWith(t, 30*time.Second, e.devEnv.cliEnv(t, "alice"), nil, wsgateBin, "list"))
		untrusted("list with another CA", runWith(t, 30*time.Second,
			append(e.devEnv.cliEnv(t, "alice"), "WSGATE_CA_FILE="+wrong.CA), nil, wsgateBin, "list"))
	})

	t.Run("agent_wrong_ca_exits", func(t *testing.T) {
		for _, caArgs := range [][]string{{"--ca-file", wrong.CA}, nil} {
			start := time.Now()
			args := append([]string{"agent", "--url", e.url, "--token", agentToken,
				"--dir", t.TempDir(), "--workspace", "alice/alice-ws", "--run-as", selfUser(t)}, caArgs...)
			r := runWith(t, 20*time.Second, append(os.Environ(), "WSGATE_CA_FILE="), nil, wsgateBin, args...)
			untrusted("agent "+strings.Join(caArgs, " "), r)
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("agent %v took %v to give up", caArgs, d)
			}
		}
	})

	// The agent with the right CA: OpenSSH on the SSH port reaches the
	// workspace through its tunnel.
	startProc(t, []string{"WSGATE_AGENT_TOKEN=" + agentToken},
		"agent", "--url", e.url, "--ca-file", ca.CA, "--dir", filepath.Join(tmp, "ws"), "--workspace", "alice/alice-ws", "--run-as", selfUser(t))
	e.waitAgent(t, "alice", "alice-ws")
	if r := e.sshRun(t, "alice", "alice-ws", nil, `echo "$WSGATE_USER in $WSGATE_WORKSPACE"`); r.code != 0 || r.stdout != "alice in alice/alice-ws\n" {
		t.Fatalf("ssh through the https agent: %+v", r)
	}

	t.Run("wsgate_ssh_over_https", func(t *testing.T) {
		r := runWith(t, 60*time.Second, e.cliEnv(t, "alice"), strings.NewReader("12345"), wsgateBin, "ssh", "alice-ws", `wc -c; exit 3`)
		if r.code != 3 || strings.TrimSpace(r.stdout) != "5" {
			t.Fatalf("wsgate ssh over https: %+v", r)
		}
		untrusted("wsgate ssh with another CA", runWith(t, 30*time.Second,
			append(e.devEnv.cliEnv(t, "alice"), "WSGATE_CA_FILE="+wrong.CA), nil, wsgateBin, "ssh", "alice-ws", "true"))
	})

	t.Run("proxycommand_over_https", func(t *testing.T) {
		r := runWith(t, 60*time.Second, e.cliEnv(t, "alice"), nil, "ssh", append(e.tokenSSHArgs(t, "alice-ws"), `echo "$WSGATE_USER via ProxyCommand"`)...)
		if r.code != 0 || r.stdout != "alice via ProxyCommand\n" {
			t.Fatalf("ssh with ProxyCommand over https: %+v", r)
		}
		r = runWith(t, 60*time.Second, append(e.devEnv.cliEnv(t, "alice"), "WSGATE_CA_FILE="+wrong.CA), nil,
			"ssh", append(e.tokenSSHArgs(t, "alice-ws"), "true")...)
		if r.code == 0 {
			t.Fatalf("ProxyCommand with another CA succeeded: %+v", r)
		}
		mustContain(t, "ProxyCommand with another CA", r.stderr, unknownAuthority)
	})
}

// TestTLSReloadOnSIGHUP: after the certificate files are replaced (a new
// leaf from the same CA) and the server gets SIGHUP, new TLS connections
// get the new certificate, while a session opened before on the SSH port,
// one opened before over `wsgate ssh` (HTTPS, old certificate) and the
// agent's tunnel keep working. A bad pair on SIGHUP keeps the current one.
func TestTLSReloadOnSIGHUP(t *testing.T) {
	requireTool(t, "ssh")
	tmp := t.TempDir()
	caDir := filepath.Join(tmp, "ca")
	ca := makeCA(t, caDir)
	// The server reads its own copies, which the test replaces.
	tlsDir := filepath.Join(tmp, "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem")
	copyFile(t, ca.Key, keyFile)
	copyFile(t, ca.Cert, certFile)
	dir := filepath.Join(tmp, "server")
	agentToken := seedServerDir(t, dir)
	e := startTLSServer(t, dir, ca.CA, certFile, keyFile)
	startProc(t, []string{"WSGATE_AGENT_TOKEN=" + agentToken},
		"agent", "--url", e.url, "--ca-file", ca.CA, "--dir", filepath.Join(tmp, "ws"), "--workspace", "alice/alice-ws", "--run-as", selfUser(t))
	e.waitAgent(t, "alice", "alice-ws")

	first := certSerial(t, ca)
	if got := servedSerial(t, e.httpAddr, ca.CA); got.Cmp(first) != 0 {
		t.Fatalf("served serial %v, want %v", got, first)
	}
	viaPort := startShell(t, "ssh-port session", nil, "ssh", append(e.sshArgs("alice", "alice-ws"), "sh")...)
	viaHTTPS := startShell(t, "wsgate ssh session", e.cliEnv(t, "alice"), wsgateBin, "ssh", "alice-ws", "sh")

	next := reissue(t, caDir, "127.0.0.1", "localhost", "gateway.test")
	second := certSerial(t, next)
	if second.Cmp(first) == 0 {
		t.Fatal("the re-issued certificate has the same serial")
	}
	copyFile(t, next.Key, keyFile)
	copyFile(t, next.Cert, certFile)
	if err := e.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "the new certificate on new connections", func() bool {
		return servedSerial(t, e.httpAddr, ca.CA).Cmp(second) == 0
	})
	testutil.WaitFor(t, 5*time.Second, "the reload in the log", func() bool {
		return strings.Contains(e.proc.out.String(), "SIGHUP: TLS certificate reloaded")
	})

	// Sessions opened before the reload still run commands.
	viaPort.ask(t, `echo "$WSGATE_USER after reload"`, "alice after reload")
	viaHTTPS.ask(t, `echo "$WSGATE_USER after reload"`, "alice after reload")
	// New sessions: over https with the new certificate, and through the
	// agent's tunnel that was opened with the old one.
	if r := runWith(t, 60*time.Second, e.cliEnv(t, "alice"), nil, wsgateBin, "ssh", "alice-ws", "echo new"); r.code != 0 || r.stdout != "new\n" {
		t.Fatalf("new wsgate ssh after reload: %+v", r)
	}
	if r := e.sshRun(t, "alice", "alice-ws", nil, "echo new"); r.code != 0 || r.stdout != "new\n" {
		t.Fatalf("new ssh after reload: %+v", r)
	}

	// A certificate that does not match the key: SIGHUP keeps serving the
	// current pair and says so.
	copyFile(t, reissue(t, caDir, "127.0.0.1").Cert, certFile)
	if err := e.proc.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "the failed reload in the log", func() bool {
		return strings.Contains(e.proc.out.String(), "SIGHUP: TLS certificate not reloaded")
	})
	if got := servedSerial(t, e.httpAddr, ca.CA); got.Cmp(second) != 0 {
		t.Fatalf("after a bad pair the server serves serial %v, want %v", got, second)
	}
	viaPort.ask(t, "echo still", "still")
	viaHTTPS.ask(t, "echo still", "still")
}

// TestAgentRefusesCleartext: the built agent refuses an http:// URL to a
// host that is not this machine before resolving or dialling it.
func TestAgentRefusesCleartext(t *testing.T) {
	start := time.Now()
	r := run(t, 10*time.Second, nil, wsgateBin, "agent", "--url", "http://example.invalid:8080", "--token", "x", "--dir", t.TempDir())
	if r.code == 0 {
		t.Fatalf("agent accepted a cleartext URL: %+v", r)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("agent took %v to refuse", d)
	}
	mustContain(t, "agent stderr", r.stderr, "refusing to send the agent token in cleartext")
	for _, dialled := range []string{"lookup", "dial", "no such host", "tunnel", "connect"} {
		if strings.Contains(strings.ToLower(r.stderr), dialled) {
			t.Fatalf("agent stderr mentions %q, as if it had dialled: %q", dialled, r.stderr)
		}
	}
}

// TestDevTLS: `wsgate dev --tls` serves HTTPS from a CA it makes in
// DATA_DIR/tls, names it in dev.json, and clients trusting that file (the
// CLI through WSGATE_CA_FILE, a Go client for GET /api/v1/info) work, while
// the CLI without it is told to pass --ca-file. The in-process agent trusts
// it too: OpenSSH and `wsgate ssh` reach the workspace.
func TestDevTLS(t *testing.T) {
	requireTool(t, "ssh")
	d := startDev(t, "--tls")
	b, err := os.ReadFile(filepath.Join(d.dir, "dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		URL    string `json:"url"`
		CAFile string `json:"ca_file"`
	}
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.URL, "https://127.0.0.1:") || info.CAFile != filepath.Join(d.dir, "tls", "ca.pem") {
		t.Fatalf("dev.json: %s", b)
	}

	resp, err := httpsClient(t, info.CAFile).Get(info.URL + "/api/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var api apitypes.Info
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &api) != nil || api.AccessURL != info.URL {
		t.Fatalf("GET /api/v1/info: %s %s", resp.Status, body)
	}

	env := append(d.cliEnv(t, "alice"), "WSGATE_CA_FILE="+info.CAFile)
	if r := runWith(t, 30*time.Second, env, nil, wsgateBin, "list"); r.code != 0 || !strings.Contains(r.stdout, "alice/alice-ws") {
		t.Fatalf("list with WSGATE_CA_FILE: %+v", r)
	}
	r := runWith(t, 30*time.Second, append(d.cliEnv(t, "alice"), "WSGATE_CA_FILE="), nil, wsgateBin, "list")
	if r.code == 0 {
		t.Fatalf("list without the dev CA: %+v", r)
	}
	mustContain(t, "list without the dev CA", r.stderr, unknownAuthority)
	mustContain(t, "list without the dev CA", r.stderr, caFileHint)

	if r := d.sshRun(t, "alice", "alice-ws", nil, "echo port"); r.code != 0 || r.stdout != "port\n" {
		t.Fatalf("ssh port: %+v", r)
	}
	if r := runWith(t, 60*time.Second, env, nil, wsgateBin, "ssh", "alice-ws", "echo https"); r.code != 0 || r.stdout != "https\n" {
		t.Fatalf("wsgate ssh: %+v", r)
	}
}

// TestDevOwnCertificate: `wsgate dev` with a certificate of the user's own
// (a private CA nobody configured) becomes ready: its in-process agent
// trusts the certificate it serves.
func TestDevOwnCertificate(t *testing.T) {
	ca := makeCA(t, t.TempDir())
	d := startDev(t, "--tls-cert-file", ca.Cert, "--tls-key-file", ca.Key)
	if !strings.HasPrefix(d.url, "https://") {
		t.Fatalf("dev url %q, want https", d.url)
	}
	env := append(d.cliEnv(t, "alice"), "WSGATE_CA_FILE="+ca.CA)
	if r := runWith(t, 30*time.Second, env, nil, wsgateBin, "workspaces", "stats", "alice-ws"); r.code != 0 {
		t.Fatalf("stats through the dev agent: %+v", r)
	}
}
