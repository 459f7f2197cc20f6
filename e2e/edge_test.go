package e2e

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// startEdgeServer runs `wsgate server` (plain HTTP) with extra flags over
// the revocation world, and alice-ws's agent.
func startEdgeServer(t testing.TB, extra ...string) *devEnv {
	t.Helper()
	dir := t.TempDir()
	token := seedServerDir(t, dir)
	d := startServer(t, dir, extra...)
	startWorkspaceAgent(t, d.url, token, aliceWS, filepath.Join(dir, "ws"))
	d.waitAgent(t, "alice", "alice-ws")
	return d
}

// startHeaderProxy is an HTTP reverse proxy on 127.0.0.1 in front of
// target that sets the forwarding headers set writes (after dropping any a
// client sent); upgrades pass through it. It returns the proxy's URL.
func startHeaderProxy(t testing.TB, target string, set func(http.Header)) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		set(r.Out.Header)
	}})
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestTrustedProxyClientAddress: `wsgate ssh` sessions through an HTTP
// reverse proxy on 127.0.0.1 that sets X-Forwarded-For (one proxy) or
// Forwarded (another) show the forwarded client address in `wsgate
// workspaces connections` when the gateway trusts 127.0.0.1, and the
// proxy's own address when it trusts only other peers.
func TestTrustedProxyClientAddress(t *testing.T) {
	requireTool(t, "ssh")
	for _, c := range []struct {
		trusted string
		want    []string
	}{
		{"127.0.0.1/32", []string{"203.0.113.7", "203.0.113.8"}},
		{"10.0.0.0/8", []string{"127.0.0.1", "127.0.0.1"}},
	} {
		t.Run(c.trusted, func(t *testing.T) {
			d := startEdgeServer(t, "--trusted-proxies", c.trusted)
			xff := startHeaderProxy(t, d.url, func(h http.Header) { h.Set("X-Forwarded-For", "203.0.113.7") })
			fwd := startHeaderProxy(t, d.url, func(h http.Header) { h.Set("Forwarded", `for=203.0.113.8;proto=https`) })
			for _, proxyURL := range []string{xff, fwd} {
				env := append(d.cliEnv(t, "alice"), "WSGATE_URL="+proxyURL)
				s := startShell(t, "wsgate ssh via "+proxyURL, env, wsgateBin, "ssh", "alice-ws", "sh")
				s.ask(t, "echo $WSGATE_USER", "alice")
			}
			conns := waitConnections(t, d.cliEnv(t, "alice"), 2)
			got := remoteHosts(t, conns)["https"]
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Fatalf("remote addresses %q, want %q (connections %+v)", got, c.want, conns)
			}
		})
	}
}

// proxyRelay is a TCP relay on 127.0.0.1 that opens each connection to
// backend with a PROXY protocol v2 header naming src as the client, as a
// TCP load balancer would.
type proxyRelay struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startProxyRelay(t testing.TB, backend string, src *net.TCPAddr) *proxyRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &proxyRelay{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.relay(c, backend, src)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		r.mu.Lock()
		for _, c := range r.conns {
			c.Close()
		}
		r.mu.Unlock()
		r.wg.Wait()
	})
	return r
}

func (r *proxyRelay) port() string {
	return strconv.Itoa(r.ln.Addr().(*net.TCPAddr).Port)
}

func (r *proxyRelay) relay(client net.Conn, backend string, src *net.TCPAddr) {
	server, err := net.Dial("tcp", backend)
	if err != nil {
		client.Close()
		return
	}
	r.mu.Lock()
	r.conns = append(r.conns, client, server)
	r.mu.Unlock()
	defer client.Close()
	defer server.Close()
	h := &proxyproto.Header{Version: 2, Command: proxyproto.PROXY, TransportProtocol: proxyproto.TCPv4,
		SourceAddr: src, DestinationAddr: server.RemoteAddr()}
	if _, err := h.WriteTo(server); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(server, client)
		server.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(client, server)
	client.Close()
	<-done
}

// sshVia are OpenSSH arguments for user to target through port (a relay
// in front of d's SSH port).
func (d *devEnv) sshVia(user, target, port string, command ...string) []string {
	args := append(d.sshOpts(d.key(user)), "-p", port, "-l", target, d.sshHost)
	return append(args, command...)
}

var proxiedClient = &net.TCPAddr{IP: net.ParseIP("198.51.100.9").To4(), Port: 4242}

// TestSSHProxyProtocol: with --ssh-proxy-protocol, a trusted TCP proxy's
// PROXY v2 header makes its client's address the connection's (shown by
// `wsgate workspaces connections`), and a trusted peer may still connect
// without a header. From a peer that is not trusted a header closes the
// connection before the SSH banner, while plain SSH from it still works.
func TestSSHProxyProtocol(t *testing.T) {
	requireTool(t, "ssh")

	t.Run("trusted", func(t *testing.T) {
		d := startEdgeServer(t, "--ssh-proxy-protocol", "--trusted-proxies", "127.0.0.1/32")
		relay := startProxyRelay(t, net.JoinHostPort(d.sshHost, d.sshPort), proxiedClient)
		sshPort, _ := strconv.Atoi(d.sshPort)
		relayPort, _ := strconv.Atoi(relay.port())
		writeKnownHosts(t, d.dir, sshPort, relayPort)

		viaRelay := startShell(t, "ssh via the PROXY relay", nil, "ssh", d.sshVia("alice", "alice-ws", relay.port(), "sh")...)
		viaRelay.ask(t, "echo $WSGATE_USER", "alice")
		direct := startShell(t, "ssh without a header", nil, "ssh", append(d.sshArgs("alice", "alice-ws"), "sh")...)
		direct.ask(t, "echo $WSGATE_USER", "alice")

		conns := waitConnections(t, d.cliEnv(t, "alice"), 2)
		got := remoteHosts(t, conns)["ssh"]
		slices.Sort(got)
		if !slices.Equal(got, []string{"127.0.0.1", "198.51.100.9"}) {
			t.Fatalf("connections %+v, want one from 127.0.0.1 and one from %s", conns, proxiedClient)
		}
		// The header's port too, not only its address.
		if !slices.ContainsFunc(conns, func(c apitypes.Connection) bool { return c.RemoteAddr == proxiedClient.String() }) {
			t.Fatalf("no connection from %s: %+v", proxiedClient, conns)
		}
	})

	t.Run("untrusted", func(t *testing.T) {
		d := startEdgeServer(t, "--ssh-proxy-protocol", "--trusted-proxies", "10.0.0.0/8")
		sshAddr := net.JoinHostPort(d.sshHost, d.sshPort)

		// A header from 127.0.0.1: the connection closes, no banner.
		c, err := net.DialTimeout("tcp", sshAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		h := &proxyproto.Header{Version: 2, Command: proxyproto.PROXY, TransportProtocol: proxyproto.TCPv4,
			SourceAddr: proxiedClient, DestinationAddr: c.RemoteAddr()}
		if _, err := h.WriteTo(c); err != nil {
			t.Fatal(err)
		}
		// The client's banner too, so the server has every reason to answer.
		if _, err := io.WriteString(c, "SSH-2.0-e2e\r\n"); err != nil {
			t.Fatal(err)
		}
		if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection with an untrusted PROXY header still open after 10s (read %q)", got)
		}
		if len(got) != 0 {
			t.Fatalf("untrusted PROXY header: the server answered %q", got)
		}

		// OpenSSH through the relay is refused the same way.
		relay := startProxyRelay(t, sshAddr, proxiedClient)
		r := run(t, 30*time.Second, nil, "ssh", d.sshVia("alice", "alice-ws", relay.port(), "echo in")...)
		if r.code != 255 || r.stdout != "" {
			t.Fatalf("ssh via an untrusted PROXY relay: %+v", r)
		}

		// Plain SSH from the same peer works.
		if r := d.sshRun(t, "alice", "alice-ws", nil, "echo plain"); r.code != 0 || r.stdout != "plain\n" {
			t.Fatalf("plain ssh: %+v", r)
		}
		// Nothing from the refused connections is listed.
		waitConnections(t, d.cliEnv(t, "alice"), 0)
	})
}
