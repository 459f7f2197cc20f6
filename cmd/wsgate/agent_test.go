package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/tunnel"
)

// lockedBuffer is a bytes.Buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// agentProc is a running `wsgate agent`.
type agentProc struct {
	stderr *lockedBuffer
	done   chan struct{}
	code   int // once done is closed
}

// startAgent runs `wsgate agent --dir TMP args...` with only env (and
// PATH, HOME); the test's end kills it.
func startAgent(t *testing.T, env []string, args ...string) *agentProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, wsgateBin, append([]string{"agent", "--dir", t.TempDir(), "--run-as", selfUser(t)}, args...)...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "WSGATE_AGENT_STATE_DIR=" + t.TempDir()}, env...)
	p := &agentProc{stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stderr, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() { cancel(); <-p.done })
	return p
}

// exits waits for the agent to end on its own and returns its stderr.
func (p *agentProc) exits(t *testing.T, within time.Duration) string {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("agent still running after %v:\n%s", within, p.stderr)
	}
	if p.code == 0 {
		t.Fatalf("agent exited 0:\n%s", p.stderr)
	}
	return p.stderr.String()
}

func (p *agentProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// fakeGateway answers every tunnel upgrade 401 and records the bearer
// tokens it was sent; serve starts it (plain or TLS).
type fakeGateway struct {
	mu     sync.Mutex
	bearer []string
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == tunnel.ConnectPath {
		g.mu.Lock()
		g.bearer = append(g.bearer, r.Header.Get("Authorization"))
		g.mu.Unlock()
	}
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

func (g *fakeGateway) sawToken(tok string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, b := range g.bearer {
		if b == "Bearer "+tok {
			return true
		}
	}
	return false
}

func (g *fakeGateway) requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.bearer)
}

func TestAgentRefusesCleartextToANetworkHost(t *testing.T) {
	const want = "refusing to send the agent token in cleartext to "
	for _, tc := range []struct {
		url  string
		env  []string
		args []string
	}{
		{url: "http://example.invalid:8080", args: []string{"--url", "http://example.invalid:8080", "--token", "x"}},
		{url: "http://10.0.0.1:8080", args: []string{"--url", "http://10.0.0.1:8080", "--token", "x"}},
		{url: "http://[2001:db8::1]:8080", env: []string{"WSGATE_AGENT_URL=http://[2001:db8::1]:8080", "WSGATE_AGENT_TOKEN=x"}},
	} {
		start := time.Now()
		stderr := startAgent(t, tc.env, tc.args...).exits(t, 10*time.Second)
		if !strings.Contains(stderr, want+tc.url+": use https://, or pass --insecure-plaintext") {
			t.Errorf("%s: stderr %q", tc.url, stderr)
		}
		// Refused before any lookup or dial: no network error, no retry.
		for _, bad := range []string{"lookup", "dial", "cannot connect", "tunnel"} {
			if strings.Contains(stderr, bad) {
				t.Errorf("%s: stderr mentions %q: %s", tc.url, bad, stderr)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: refused after %v", tc.url, d)
		}
	}
}

// nonLoopbackIP is an address of this machine that is not loopback, or "".
func nonLoopbackIP(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// A real listener on a non-loopback address of this machine proves the
// refusal comes before any dial, and that --insecure-plaintext lifts it.
func TestAgentInsecurePlaintextToANetworkHost(t *testing.T) {
	ip := nonLoopbackIP(t)
	if ip == "" {
		t.Skip("no non-loopback IPv4 address on this machine")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	g := &fakeGateway{}
	srv := httptest.NewUnstartedServer(g)
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	stderr := startAgent(t, nil, "--url", srv.URL, "--token", "x").exits(t, 10*time.Second)
	if !strings.Contains(stderr, "refusing to send the agent token in cleartext") {
		t.Fatalf("stderr %q", stderr)
	}
	if n := g.requests(); n != 0 {
		t.Fatalf("the refused agent still sent %d requests", n)
	}

	p := startAgent(t, []string{"WSGATE_AGENT_INSECURE_PLAINTEXT=true"}, "--url", srv.URL, "--token", "x")
	testutil.Eventually(t, "the token over http://"+ip, func() bool { return g.sawToken("x") })
	if !p.running() || !strings.Contains(p.stderr.String(), "cleartext") {
		t.Fatalf("agent with --insecure-plaintext: running %v, stderr %s", p.running(), p.stderr)
	}
}

func TestAgentDialsLoopbackOverHTTP(t *testing.T) {
	g := &fakeGateway{}
	srv := httptest.NewServer(g)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, u := range []string{srv.URL, "http://localhost:" + port, "http://0.0.0.0:" + port} {
		tok := "tok-" + u
		p := startAgent(t, nil, "--url", u, "--token", tok)
		testutil.Eventually(t, "the agent's upgrade to "+u, func() bool { return g.sawToken(tok) })
		if !p.running() {
			t.Fatalf("agent for %s exited:\n%s", u, p.stderr)
		}
	}
}

func TestAgentWithPrivateCA(t *testing.T) {
	ca := devCA(t, "127.0.0.1")
	g := &fakeGateway{}
	srv := serveTLS(t, ca)(g)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// Untrusted, or a name the certificate does not list: the first dial
	// fails, and the agent exits with the reason instead of retrying.
	stderr := startAgent(t, nil, "--url", srv.URL, "--token", "x").exits(t, 20*time.Second)
	if !strings.Contains(stderr, "certificate signed by unknown authority") || !strings.Contains(stderr, "--ca-file") {
		t.Errorf("untrusted gateway: stderr %q", stderr)
	}
	stderr = startAgent(t, nil, "--url", "https://localhost:"+port, "--token", "x", "--ca-file", ca.CA).exits(t, 20*time.Second)
	if !strings.Contains(stderr, "issued for 127.0.0.1, not localhost") {
		t.Errorf("gateway under another name: stderr %q", stderr)
	}
	if n := g.requests(); n != 0 {
		t.Fatalf("%d upgrade requests got through without a trusted certificate", n)
	}

	// Trusted through --ca-file, WSGATE_AGENT_CA_FILE or WSGATE_CA_FILE.
	for i, tc := range []struct {
		env  []string
		args []string
	}{
		{args: []string{"--ca-file", ca.CA}},
		{env: []string{"WSGATE_AGENT_CA_FILE=" + ca.CA}},
		{env: []string{"WSGATE_CA_FILE=" + ca.CA}},
	} {
		tok := string(rune('a' + i))
		p := startAgent(t, tc.env, append([]string{"--url", srv.URL, "--token", tok}, tc.args...)...)
		testutil.Eventually(t, "the token over TLS", func() bool { return g.sawToken(tok) })
		if !p.running() {
			t.Fatalf("agent %v %v exited:\n%s", tc.env, tc.args, p.stderr)
		}
	}
}

func TestAgentCAFileErrors(t *testing.T) {
	stderr := startAgent(t, nil, "--url", "https://127.0.0.1:1", "--token", "x", "--ca-file", "/nonexistent/ca.pem").exits(t, 10*time.Second)
	if !strings.Contains(stderr, "read CA file") {
		t.Errorf("missing CA file: stderr %q", stderr)
	}
}

// selfUser is the OS user running the tests, for `wsgate agent --run-as`:
// an agent running as root refuses to run sessions as root unless told.
func selfUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}
