package edge

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"
)

// echoServer accepts on ln until it is closed; each connection is answered
// with "<RemoteAddr> <first line>" and closed. Errors reading a connection
// go to errs, and that connection is left open until the test ends, so
// that a client that sees it closed shows ProxyProtocol closed it.
type echoServer struct {
	ln   net.Listener
	errs chan error
	wg   sync.WaitGroup

	mu   sync.Mutex
	held []net.Conn
}

func startEcho(t *testing.T, ln net.Listener) *echoServer {
	t.Helper()
	s := &echoServer{ln: ln, errs: make(chan error, 16)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener was closed
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				remote := c.RemoteAddr().String()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					s.mu.Lock()
					s.held = append(s.held, c)
					s.mu.Unlock()
					s.errs <- err
					return
				}
				_, _ = io.WriteString(c, remote+" "+line)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
		for _, c := range s.held {
			_ = c.Close()
		}
	})
	return s
}

// proxyEcho serves echo on 127.0.0.1 through ProxyProtocol, trusting only
// 127.0.0.1 to send PROXY headers.
func proxyEcho(t *testing.T, headerTimeout time.Duration) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseProxies("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return startEcho(t, ProxyProtocol(ln, p, headerTimeout))
}

// dialFrom connects from the local address ip, sends header (if any) and a
// banner line, and returns what comes back and how the read ended.
func dialFrom(t *testing.T, s *echoServer, ip string, header *proxyproto.Header) (reply string, local string, err error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if header != nil {
		if _, err := header.WriteTo(conn); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.WriteString(conn, "SSH-2.0-test\r\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(conn)
	return string(b), conn.LocalAddr().String(), err
}

func v1Header() *proxyproto.Header {
	return &proxyproto.Header{
		Version:           1,
		Command:           proxyproto.PROXY,
		TransportProtocol: proxyproto.TCPv4,
		SourceAddr:        &net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 4242},
		DestinationAddr:   &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 2222},
	}
}

func v2Header() *proxyproto.Header {
	return &proxyproto.Header{
		Version:           2,
		Command:           proxyproto.PROXY,
		TransportProtocol: proxyproto.TCPv6,
		SourceAddr:        &net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 4243},
		DestinationAddr:   &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 2222},
	}
}

func TestProxyProtocolFromTrustedPeer(t *testing.T) {
	s := proxyEcho(t, 2*time.Second)
	tests := []struct {
		name   string
		header *proxyproto.Header
		want   string // the RemoteAddr seen; "" for the peer's own
	}{
		{"v1", v1Header(), "203.0.113.7:4242"},
		{"v2", v2Header(), "[2001:db8::7]:4243"},
		{"no header", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply, local, err := dialFrom(t, s, "127.0.0.1", tt.header)
			if err != nil {
				t.Fatalf("read reply: %v", err)
			}
			want := tt.want
			if want == "" {
				want = local
			}
			if reply != want+" SSH-2.0-test\r\n" {
				t.Fatalf("server answered %q, want RemoteAddr %s and the banner", reply, want)
			}
		})
	}
}

func TestProxyProtocolFromUntrustedPeer(t *testing.T) {
	s := proxyEcho(t, 2*time.Second)

	reply, local, err := dialFrom(t, s, "127.0.0.2", nil)
	if err != nil || reply != local+" SSH-2.0-test\r\n" {
		t.Fatalf("no header: answered %q (%v), want the peer's own address %s", reply, err, local)
	}

	for _, header := range []*proxyproto.Header{v1Header(), v2Header()} {
		reply, _, err := dialFrom(t, s, "127.0.0.2", header)
		if reply != "" || isTimeout(err) {
			t.Fatalf("v%d header from an untrusted peer: server answered %q (%v), want the connection closed", header.Version, reply, err)
		}
		select {
		case err := <-s.errs:
			if !errors.Is(err, proxyproto.ErrSuperfluousProxyHeader) {
				t.Fatalf("v%d header from an untrusted peer: first read failed with %v", header.Version, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("v%d header from an untrusted peer: the connection's first read did not fail", header.Version)
		}
	}

	// The listener keeps accepting.
	reply, _, err = dialFrom(t, s, "127.0.0.1", v1Header())
	if err != nil || !strings.HasPrefix(reply, "203.0.113.7:4242 ") {
		t.Fatalf("after refusals: answered %q (%v)", reply, err)
	}
}

func TestProxyProtocolMalformedHeaderClosed(t *testing.T) {
	s := proxyEcho(t, 2*time.Second)
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "PROXY TCP4 garbage\r\nSSH-2.0-test\r\n"); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(conn); len(b) != 0 || isTimeout(err) {
		t.Fatalf("server answered %q (%v) to a malformed header, want the connection closed", b, err)
	}
	select {
	case err := <-s.errs:
		if err == nil || !strings.Contains(err.Error(), "proxy protocol from 127.0.0.1:") {
			t.Fatalf("first read failed with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the connection's first read did not fail")
	}
}

// A peer that sends nothing holds only its own connection: Accept goes on,
// and after the header timeout the connection counts as headerless.
func TestProxyProtocolSilentPeerDoesNotBlockAccept(t *testing.T) {
	const timeout = 300 * time.Millisecond
	s := proxyEcho(t, timeout)
	silent, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	start := time.Now()
	reply, _, err := dialFrom(t, s, "127.0.0.1", v2Header())
	if err != nil || !strings.HasPrefix(reply, "[2001:db8::7]:4243 ") {
		t.Fatalf("second connection: answered %q (%v)", reply, err)
	}
	if waited := time.Since(start); waited >= timeout {
		t.Fatalf("second connection waited %v behind the silent one", waited)
	}

	time.Sleep(2 * timeout)
	if _, err := io.WriteString(silent, "SSH-2.0-late\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = silent.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(silent)
	if err != nil || string(b) != silent.LocalAddr().String()+" SSH-2.0-late\r\n" {
		t.Fatalf("late sender: answered %q (%v)", b, err)
	}
}

func TestProxyProtocolTrustingNobodyIsTheListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := ProxyProtocol(ln, Proxies{}, time.Second); got != ln {
		t.Fatalf("ProxyProtocol with no trusted proxies wrapped the listener: %T", got)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
