package upgrade

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgate/wsgate/internal/testutil"
)

const proto = "test-proto"

// upgrader serves upgrades to proto with serve, refusing anything else.
// The test waits for serve to return: hijacked connections outlive
// httptest.Server.Close.
func upgrader(t *testing.T, serve func(r *http.Request, c *Conn)) http.Handler {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		if !Requested(r, proto) {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		c, err := Accept(w, proto)
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer c.Close()
		serve(r, c)
	})
}

func dialCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// echoUpper greets, reads until the client's EOF, answers in upper case and
// half-closes: both directions and both half-closes in one exchange.
func echoUpper(t *testing.T, reqs chan<- *http.Request) func(*http.Request, *Conn) {
	return func(r *http.Request, c *Conn) {
		reqs <- r
		// Longer than the server's timeouts, which must not apply after
		// Accept (net/http's Hijack clears them too); the greeting carries
		// the 101 (a Commit would reset the write deadline itself).
		time.Sleep(300 * time.Millisecond)
		if _, err := io.WriteString(c, "> "); err != nil {
			t.Errorf("server greeting: %v", err)
			return
		}
		got, err := io.ReadAll(c)
		if err != nil {
			t.Errorf("server read: %v", err)
			return
		}
		if _, err := c.Write(bytes.ToUpper(got)); err != nil {
			t.Errorf("server write: %v", err)
			return
		}
		if err := c.CloseWrite(); err != nil {
			t.Errorf("server CloseWrite: %v", err)
		}
		// The client closes after reading our EOF.
		if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Errorf("server read after client EOF: %d, %v", n, err)
		}
	}
}

func roundTrip(t *testing.T, conn net.Conn) {
	t.Helper()
	defer conn.Close()
	if _, err := io.WriteString(conn, "hello, "); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "server"); err != nil {
		t.Fatal(err)
	}
	hc, ok := conn.(interface{ CloseWrite() error })
	if !ok {
		t.Fatalf("%T has no CloseWrite", conn)
	}
	if err := hc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "> HELLO, SERVER" {
		t.Fatalf("client read %q, %v", got, err)
	}
}

func checkRequest(t *testing.T, r *http.Request) {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/up" || r.URL.RawQuery != "q=1" {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	for k, want := range map[string]string{
		"Authorization": "Bearer tok",
		"User-Agent":    "test-agent",
		"X-Extra":       "yes",
		"Upgrade":       proto,
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	reqs := make(chan *http.Request, 1)
	srv := httptest.NewUnstartedServer(upgrader(t, echoUpper(t, reqs)))
	srv.Config.ReadTimeout = 100 * time.Millisecond
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()

	conn, err := Dial(dialCtx(t), DialConfig{
		URL: srv.URL + "/up?q=1", Protocol: proto, Token: "tok", UserAgent: "test-agent",
		Header: http.Header{"X-Extra": {"yes"}, "Upgrade": {"not this"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkRequest(t, <-reqs)
	roundTrip(t, conn)
}

func TestRoundTripTLS(t *testing.T) {
	reqs := make(chan *http.Request, 1)
	srv := httptest.NewUnstartedServer(upgrader(t, echoUpper(t, reqs)))
	// The server would pick HTTP/2, which has no Upgrade, if offered.
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
	srv.StartTLS()
	defer srv.Close()

	// Without the test CA the certificate is refused.
	_, err := Dial(dialCtx(t), DialConfig{URL: srv.URL, Protocol: proto})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("dial without the CA: %v", err)
	}

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg := &tls.Config{RootCAs: pool, NextProtos: []string{"h2"}}
	conn, err := Dial(dialCtx(t), DialConfig{
		URL: srv.URL + "/up?q=1", Protocol: proto, Token: "tok", UserAgent: "test-agent",
		Header: http.Header{"X-Extra": {"yes"}}, TLS: cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "" || len(cfg.NextProtos) != 1 || cfg.NextProtos[0] != "h2" {
		t.Errorf("Dial changed the caller's TLS config: %q %q", cfg.ServerName, cfg.NextProtos)
	}
	r := <-reqs
	checkRequest(t, r)
	if r.TLS == nil || r.TLS.NegotiatedProtocol != "http/1.1" {
		t.Errorf("TLS state %+v, want http/1.1 negotiated", r.TLS)
	}
	roundTrip(t, conn)
}

func TestAcceptKeepsBytesSentRightBehindTheRequest(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(upgrader(t, func(_ *http.Request, c *Conn) {
		b := make([]byte, len("EARLY"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.ReadFull(c, b)
		if err != nil {
			t.Errorf("server read: %v", err)
		}
		got <- string(b)
		_, _ = io.WriteString(c, "ok")
	}))
	defer srv.Close()

	raw, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// One write: the request and the first bytes of the new protocol.
	req := "POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: " + proto + "\r\nContent-Length: 0\r\n\r\nEARLY"
	if _, err := io.WriteString(raw, req); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "EARLY" {
		t.Fatalf("server read %q", s)
	}
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(raw)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != proto {
		t.Fatalf("answer %+v, %v", resp, err)
	}
	if rest, _ := io.ReadAll(br); string(rest) != "ok" {
		t.Fatalf("after the 101: %q", rest)
	}
}

func TestDialKeepsBytesSentRightBehindThe101(t *testing.T) {
	srv := httptest.NewServer(upgrader(t, func(_ *http.Request, c *Conn) {
		// No Commit: the 101 goes out in the same write.
		_, _ = io.WriteString(c, "EARLY")
		_, _ = io.Copy(io.Discard, c)
	}))
	defer srv.Close()
	conn, err := Dial(dialCtx(t), DialConfig{URL: srv.URL, Protocol: proto})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, len("EARLY"))
	if _, err := io.ReadFull(conn, b); err != nil || string(b) != "EARLY" {
		t.Fatalf("read %q, %v", b, err)
	}
}

// The register-before-101 rule: whatever the server does between Accept and
// Commit happens before the client's Dial returns.
func TestNo101BeforeCommit(t *testing.T) {
	accepted := make(chan struct{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseServer := func() { releaseOnce.Do(func() { close(release) }) }
	var registered atomic.Bool
	srv := httptest.NewServer(upgrader(t, func(_ *http.Request, c *Conn) {
		close(accepted)
		<-release
		registered.Store(true)
		if err := c.Commit(); err != nil {
			t.Errorf("Commit: %v", err)
		}
		if err := c.Commit(); err != nil {
			t.Errorf("second Commit: %v", err)
		}
		_, _ = io.WriteString(c, "after")
		_, _ = io.Copy(io.Discard, c)
	}))
	defer srv.Close()
	t.Cleanup(releaseServer) // runs before upgrader's wait: a failure cannot hang

	type result struct {
		conn net.Conn
		err  error
	}
	dialed := make(chan result, 1)
	go func() {
		c, err := Dial(dialCtx(t), DialConfig{URL: srv.URL, Protocol: proto})
		dialed <- result{c, err}
	}()
	<-accepted
	select {
	case r := <-dialed:
		if r.conn != nil {
			r.conn.Close()
		}
		t.Fatalf("Dial returned before Commit: %v", r.err)
	case <-time.After(300 * time.Millisecond):
	}
	releaseServer()
	r := <-dialed
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.conn.Close()
	if !registered.Load() {
		t.Fatal("Dial returned before the server committed")
	}
	// Commit twice sent one 101: the next bytes are the server's data.
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, len("after"))
	if _, err := io.ReadFull(r.conn, b); err != nil || string(b) != "after" {
		t.Fatalf("read %q, %v", b, err)
	}
}

func TestDialRefused(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Why", "because")
		if r.URL.Path == "/big" {
			http.Error(w, big, http.StatusServiceUnavailable)
			return
		}
		http.Error(w, "nope", http.StatusForbidden)
	}))
	defer srv.Close()

	_, err := Dial(dialCtx(t), DialConfig{URL: srv.URL, Protocol: proto})
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("Dial = %v, want a *ResponseError", err)
	}
	if re.StatusCode != http.StatusForbidden || re.Status != "403 Forbidden" ||
		strings.TrimSpace(string(re.Body)) != "nope" || re.Header.Get("X-Why") != "because" {
		t.Fatalf("ResponseError %+v", re)
	}
	if !strings.Contains(err.Error(), `403 Forbidden: "nope"`) {
		t.Fatalf("message %q", err)
	}

	_, err = Dial(dialCtx(t), DialConfig{URL: srv.URL + "/big", Protocol: proto})
	if !errors.As(err, &re) || re.StatusCode != http.StatusServiceUnavailable || len(re.Body) != maxErrorBody {
		t.Fatalf("big refusal: %v (body %d bytes)", err, len(re.Body))
	}
}

func TestDialRejectsOtherProtocol(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Accept(w, "other")
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		defer c.Close()
		_ = c.Commit()
		_, _ = io.Copy(io.Discard, c)
	}))
	defer srv.Close()
	conn, err := Dial(dialCtx(t), DialConfig{URL: srv.URL, Protocol: proto})
	if err == nil {
		conn.Close()
		t.Fatal("Dial accepted a 101 to another protocol")
	}
	var re *ResponseError
	if errors.As(err, &re) || !strings.Contains(err.Error(), `Upgrade "other"`) {
		t.Fatalf("Dial = %v", err)
	}
}

func TestDialCancelAbortsTheExchange(t *testing.T) {
	// A server that accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Dial(ctx, DialConfig{URL: "http://" + ln.Addr().String(), Protocol: proto})
		done <- err
	}()
	c := <-accepted
	defer c.Close()
	// Dial is now writing the request or waiting for the answer.
	_, _ = bufio.NewReader(c).ReadString('\n')
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Dial = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Dial did not return after cancel")
	}
}

func TestDialConfigErrors(t *testing.T) {
	for name, cfg := range map[string]DialConfig{
		"scheme":         {URL: "ftp://h/", Protocol: proto},
		"no host":        {URL: "http:///x", Protocol: proto},
		"bad url":        {URL: "http://h/%zz", Protocol: proto},
		"no protocol":    {URL: "http://h/"},
		"protocol space": {URL: "http://h/", Protocol: "a b"},
		"protocol crlf":  {URL: "http://h/", Protocol: "a\r\nX-Evil: 1"},
	} {
		if _, err := Dial(context.Background(), cfg); err == nil {
			t.Errorf("%s: Dial accepted %+v", name, cfg)
		}
	}
}

// AcceptHeader's fields reach Dial's ResponseHeader; they cannot override
// the upgrade itself nor add a header line.
func TestAcceptHeaderReachesResponseHeader(t *testing.T) {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		wg.Add(1)
		defer wg.Done()
		w.Header().Set("X-Middleware", "not in a 101")
		c, err := AcceptHeader(w, proto, http.Header{
			"X-Version": {"7"},
			"Upgrade":   {"other"},
			"X-Evil":    {"a\r\nX-Injected: 1"},
		})
		if err != nil {
			t.Errorf("AcceptHeader: %v", err)
			return
		}
		defer c.Close()
		if err := c.Commit(); err != nil {
			t.Errorf("Commit: %v", err)
		}
		_, _ = io.Copy(io.Discard, c)
	}))
	defer srv.Close()
	conn, err := Dial(dialCtx(t), DialConfig{URL: srv.URL, Protocol: proto})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := conn.(*Conn).ResponseHeader()
	if h.Get("X-Version") != "7" || h.Values("Upgrade")[0] != proto || len(h.Values("Upgrade")) != 1 {
		t.Errorf("101 header %q", h)
	}
	if h.Get("X-Middleware") != "" || h.Get("X-Injected") != "" {
		t.Errorf("101 header %q has fields it must not", h)
	}
}

// TestWriteBuffersOnlyOnTCPOnceThe101IsOut: buffers go out uncopied in one
// writev on a TCP socket once the held 101 is out; before that, or on
// another kind of conn, WriteBuffers declines and writes nothing.
func TestWriteBuffersOnlyOnTCPOnceThe101IsOut(t *testing.T) {
	client, server := testutil.TCPPair(t)
	c := newConn(server, bufio.NewReader(server), []byte("101\n"))
	bufs := net.Buffers{[]byte("head"), []byte("body")}
	if _, handled, _ := c.WriteBuffers(&bufs); handled {
		t.Fatal("WriteBuffers wrote while the 101 was held")
	}
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, handled, err := c.WriteBuffers(&bufs); !handled || err != nil || n != 8 {
		t.Fatalf("WriteBuffers after the 101: %d %v %v", n, handled, err)
	}
	got := make([]byte, len("101\nheadbody"))
	if _, err := io.ReadFull(client, got); err != nil || string(got) != "101\nheadbody" {
		t.Fatalf("read %q, %v", got, err)
	}

	other := newConn(struct{ net.Conn }{server}, bufio.NewReader(server), nil)
	bufs = net.Buffers{[]byte("x")}
	if _, handled, _ := other.WriteBuffers(&bufs); handled {
		t.Fatal("WriteBuffers wrote on a conn that is not a TCP socket")
	}
}
