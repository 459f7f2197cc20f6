package tunnel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects slog output of a test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// events records registry callbacks in order.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

func (e *events) count(s string) int {
	n := 0
	for _, v := range e.list() {
		if v == s {
			n++
		}
	}
	return n
}

// tokens is an Authenticate over a mutable token → key table.
type tokens struct {
	mu sync.Mutex
	m  map[string]string
}

func newTokens(kv ...string) *tokens {
	t := &tokens{m: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		t.m[kv[i]] = kv[i+1]
	}
	return t
}

func (t *tokens) set(token, key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m[token] = key
}

func (t *tokens) auth(_ context.Context, token string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k, ok := t.m[token]; ok {
		return k, nil
	}
	return "", errors.New("unknown agent token")
}

// gateway is a real HTTP server on loopback with a Registry at ConnectPath.
type gateway struct {
	reg    *Registry
	srv    *http.Server
	addr   string
	url    string
	events *events
	logs   *logBuffer
	served chan struct{}
}

// startGateway serves on addr ("127.0.0.1:0" for a free port).
func startGateway(t *testing.T, addr string, auth Authenticate) *gateway {
	t.Helper()
	return startGatewayWith(t, addr, auth, nil)
}

// startGatewayWith is startGateway with tweak applied to the registry's
// config.
func startGatewayWith(t *testing.T, addr string, auth Authenticate, tweak func(*RegistryConfig)) *gateway {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	g := &gateway{events: &events{}, logs: &logBuffer{}, served: make(chan struct{})}
	cfg := RegistryConfig{
		Logger:       g.logs.logger(),
		OnConnect:    func(k string) { g.events.add("connect " + k) },
		OnDisconnect: func(k string) { g.events.add("disconnect " + k) },
	}
	if tweak != nil {
		tweak(&cfg)
	}
	g.reg = NewRegistry(cfg)
	mux := http.NewServeMux()
	mux.Handle(ConnectPath, g.reg.Handler(auth))
	g.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	g.addr = ln.Addr().String()
	g.url = "http://" + g.addr
	go func() {
		defer close(g.served)
		_ = g.srv.Serve(ln)
	}()
	t.Cleanup(g.stop)
	return g
}

// stop takes the gateway away: listener, connections and tunnels.
func (g *gateway) stop() {
	_ = g.srv.Close()
	<-g.served
	_ = g.reg.Close()
}

// agent runs Run in the background and records the streams it is handed.
type agent struct {
	cancel   context.CancelFunc
	done     chan error
	connects chan struct{}
	logs     *logBuffer
	streams  chan Header
}

// startAgent runs Run with small backoffs; the handler echoes (see echo).
func startAgent(t *testing.T, url, token string, tweak func(*ClientConfig)) *agent {
	t.Helper()
	a := &agent{
		done:     make(chan error, 1),
		connects: make(chan struct{}, 100),
		logs:     &logBuffer{},
		streams:  make(chan Header, 100),
	}
	cfg := ClientConfig{
		URL:        url,
		Token:      token,
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond,
		Logger:     a.logs.logger(),
		OnConnect:  func() { a.connects <- struct{}{} },
		// Run does not wait for handlers; echo returns once the tunnel is gone
		// and TestMain's goleak check would catch one that does not.
		Handler: func(conn net.Conn, h Header) {
			select {
			case a.streams <- h:
			default:
			}
			echo(conn, h)
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go func() { a.done <- Run(ctx, cfg) }()
	t.Cleanup(func() { a.stop(t) })
	return a
}

// stop cancels Run and checks it returns context.Canceled.
func (a *agent) stop(t *testing.T) {
	t.Helper()
	if a.cancel == nil {
		return
	}
	a.cancel()
	a.cancel = nil
	select {
	case err := <-a.done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func (a *agent) waitConnect(t *testing.T) {
	t.Helper()
	select {
	case <-a.connects:
	case <-time.After(5 * time.Second):
		t.Fatalf("agent did not connect; agent logs:\n%s", a.logs.String())
	}
}

// echo is the test agents' stream handler: it announces the header it
// got, echoes everything, half-closes on EOF and then closes.
func echo(conn net.Conn, h Header) {
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s %s %d\n", h.Kind, h.User, h.SessionID, h.Port)
	if _, err := io.Copy(conn, conn); err != nil {
		return
	}
	_ = CloseWrite(conn)
	// Wait for the peer's close so the stream ends cleanly on both sides.
	_, _ = io.Copy(io.Discard, conn)
}

// readLine reads one '\n'-terminated line byte by byte (no buffering past it).
func readLine(t *testing.T, r io.Reader) string {
	t.Helper()
	var sb strings.Builder
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatalf("read line: %v (got %q)", err, sb.String())
		}
		if b[0] == '\n' {
			return sb.String()
		}
		sb.WriteByte(b[0])
	}
}

// dialSilentAgent upgrades a tunnel with token and then never reads or
// writes: an agent whose machine died without closing the connection.
func dialSilentAgent(t *testing.T, url, token string) net.Conn {
	t.Helper()
	ep, err := parseEndpoint(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := dial(context.Background(), ep, token, nil)
	if err != nil {
		t.Fatalf("silent agent: %v", err)
	}
	return conn
}
