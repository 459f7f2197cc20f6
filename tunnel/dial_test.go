package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// rawGateway accepts one connection, checks the upgrade request and writes
// reply verbatim.
func rawGateway(t *testing.T, reply string) (url string, reqs <-chan *http.Request) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *http.Request, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		req, err := http.ReadRequest(bufio.NewReader(conn))
		if err != nil {
			return
		}
		ch <- req
		_, _ = io.WriteString(conn, reply)
		_, _ = io.Copy(io.Discard, conn) // until the client closes
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return "http://" + ln.Addr().String(), ch
}

func mustEndpoint(t *testing.T, url string) endpoint {
	t.Helper()
	ep, err := parseEndpoint(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func TestDialKeepsBytesSentRightAfter101(t *testing.T) {
	url, reqs := rawGateway(t, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: wsgate-tunnel\r\n"+
		"Wsgate-Tunnel-Version: 2\r\n\r\nEARLY-BYTES")
	conn, err := dial(context.Background(), mustEndpoint(t, url+"/prefix/"), "tok", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := <-reqs
	if req.Method != http.MethodPost || req.URL.Path != "/prefix"+ConnectPath {
		t.Errorf("request %s %s, want POST /prefix%s", req.Method, req.URL.Path, ConnectPath)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer tok" {
		t.Errorf("Authorization %q", got)
	}
	if !upgrade.Requested(req, UpgradeProtocol) || req.Header.Get("User-Agent") != "wsgate-agent" ||
		req.Header.Get(VersionHeader) != "2" {
		t.Errorf("upgrade headers %q", req.Header)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len("EARLY-BYTES"))
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "EARLY-BYTES" {
		t.Fatalf("read %q, %v; want the bytes behind the 101", got, err)
	}
}

func TestDialRejectsNonUpgradeAnswers(t *testing.T) {
	for name, tc := range map[string]struct {
		reply string
		want  string
	}{
		"401": {"HTTP/1.1 401 Unauthorized\r\nContent-Length: 13\r\n\r\nunauthorized\n", "HTTP 401"},
		"403": {"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nnope", `403 Forbidden: "nope"`},
		"200": {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "200 OK"},
		"101 other protocol": {"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
			`Upgrade "websocket"`},
		"not http": {"SSH-2.0-OpenSSH_9.6\r\n", "read upgrade response"},
	} {
		t.Run(name, func(t *testing.T) {
			url, _ := rawGateway(t, tc.reply)
			conn, err := dial(context.Background(), mustEndpoint(t, url), "tok", nil)
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			if (name == "401") != errors.Is(err, errUnauthorized) {
				t.Fatalf("errors.Is(%v, errUnauthorized) wrong", err)
			}
		})
	}
}

func TestRunReturnsWhenCanceledDuringUpgrade(t *testing.T) {
	// A gateway that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, ClientConfig{URL: "http://" + ln.Addr().String(), Token: "t", Handler: func(net.Conn, Header) {}})
	}()
	c := <-accepted // Run is now blocked reading the answer
	defer c.Close()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestClientConfigValidation(t *testing.T) {
	h := func(net.Conn, Header) {}
	for name, cfg := range map[string]ClientConfig{
		"no url":       {Token: "t", Handler: h},
		"bad scheme":   {URL: "ftp://gw", Token: "t", Handler: h},
		"no host":      {URL: "http://", Token: "t", Handler: h},
		"no token":     {URL: "http://gw", Handler: h},
		"no handler":   {URL: "http://gw", Token: "t"},
		"backoff span": {URL: "http://gw", Token: "t", Handler: h, MinBackoff: time.Second, MaxBackoff: time.Millisecond},
	} {
		if err := Run(context.Background(), cfg); err == nil {
			t.Errorf("%s: Run accepted the config", name)
		}
	}
	cfg, ep, err := ClientConfig{URL: "https://user:pw@gw.example:8443/base?q=1", Token: "t", Handler: h}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if ep.url.String() != "https://gw.example:8443/base"+ConnectPath {
		t.Fatalf("endpoint %+v", ep)
	}
	if cfg.MinBackoff != 250*time.Millisecond || cfg.MaxBackoff != 30*time.Second || cfg.KeepAliveInterval != 15*time.Second {
		t.Fatalf("defaults %v %v %v", cfg.MinBackoff, cfg.MaxBackoff, cfg.KeepAliveInterval)
	}
}

func TestHandlerAnswers(t *testing.T) {
	g := startGateway(t, "127.0.0.1:0", newTokens("good", wsKey).auth)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	upgrade := map[string]string{"Connection": "Upgrade", "Upgrade": UpgradeProtocol}
	with := func(kv map[string]string, more ...string) map[string]string {
		m := map[string]string{}
		for k, v := range kv {
			m[k] = v
		}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = more[i+1]
		}
		return m
	}
	unauthorizedBody := ""
	for _, tc := range []struct {
		name    string
		method  string
		headers map[string]string
		code    int
	}{
		{"GET", http.MethodGet, with(upgrade, "Authorization", "Bearer good"), http.StatusMethodNotAllowed},
		{"no token", http.MethodPost, upgrade, http.StatusUnauthorized},
		{"basic auth", http.MethodPost, with(upgrade, "Authorization", "Basic Z29vZA=="), http.StatusUnauthorized},
		{"empty bearer", http.MethodPost, with(upgrade, "Authorization", "Bearer "), http.StatusUnauthorized},
		{"unknown token", http.MethodPost, with(upgrade, "Authorization", "Bearer bad"), http.StatusUnauthorized},
		{"no upgrade", http.MethodPost, map[string]string{"Authorization": "Bearer good"}, http.StatusUpgradeRequired},
		{"other upgrade", http.MethodPost, with(upgrade, "Authorization", "Bearer good", "Upgrade", "websocket"), http.StatusUpgradeRequired},
		{"no connection upgrade", http.MethodPost, map[string]string{"Authorization": "Bearer good", "Upgrade": UpgradeProtocol}, http.StatusBadRequest},
	} {
		req, err := http.NewRequest(tc.method, g.url+ConnectPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.code)
		}
		switch tc.code {
		case http.StatusUnauthorized:
			if unauthorizedBody == "" {
				unauthorizedBody = string(body)
			} else if string(body) != unauthorizedBody {
				t.Errorf("%s: 401 body %q differs from %q", tc.name, body, unauthorizedBody)
			}
		case http.StatusMethodNotAllowed:
			if resp.Header.Get("Allow") != http.MethodPost {
				t.Errorf("%s: Allow %q", tc.name, resp.Header.Get("Allow"))
			}
		case http.StatusUpgradeRequired:
			if resp.Header.Get("Upgrade") != UpgradeProtocol {
				t.Errorf("%s: Upgrade %q", tc.name, resp.Header.Get("Upgrade"))
			}
		}
	}
	if len(g.events.list()) != 0 {
		t.Fatalf("a refused request registered a tunnel: %q", g.events.list())
	}
	if strings.Contains(g.logs.String(), "Bearer bad") || strings.Contains(g.logs.String(), "=bad") {
		t.Fatalf("gateway logged a token:\n%s", g.logs.String())
	}
}

func TestTunnelOverTLS(t *testing.T) {
	reg := NewRegistry(RegistryConfig{Logger: (&logBuffer{}).logger()})
	mux := http.NewServeMux()
	mux.Handle(ConnectPath, reg.Handler(newTokens("tok", wsKey).auth))
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	defer reg.Close()

	// Without the gateway's CA the agent refuses the certificate.
	untrusting := startAgent(t, srv.URL, "tok", nil)
	testutil.Eventually(t, "certificate error", func() bool {
		return strings.Contains(untrusting.logs.String(), "certificate")
	})
	untrusting.stop(t)
	if reg.Connected(wsKey) {
		t.Fatal("agent connected without trusting the certificate")
	}

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	a := startAgent(t, srv.URL, "tok", func(c *ClientConfig) {
		c.TLSConfig = &tls.Config{RootCAs: pool}
	})
	a.waitConnect(t)
	testutil.Eventually(t, "tunnel registered", func() bool { return reg.Connected(wsKey) })
	if err := roundTrip(t, reg, Header{Kind: KindSSH, User: "alice"}, 64<<10); err != nil {
		t.Fatal(err)
	}
	a.stop(t)
}
