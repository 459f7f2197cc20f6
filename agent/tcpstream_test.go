package agent

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/tunnel"
)

func portOf(t *testing.T, addr string) uint16 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}

func TestTCPStreamHalfClose(t *testing.T) {
	addr := halfCloseServer(t)
	a := newTestAgent(t)
	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindTCP, User: "bob", SessionID: "app1", Port: portOf(t, addr)})
	if got := askHalfClosed(t, c, "GET me"); got != "got:GET me" {
		t.Fatalf("answer %q", got)
	}
}

func TestTCPStreamHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "app says hi to "+r.URL.Path)
	}))
	defer srv.Close()
	a := newTestAgent(t)
	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindTCP, User: "bob", SessionID: "app2", Port: portOf(t, srv.Listener.Addr().String())})
	got := askHalfClosed(t, c, "GET /bob HTTP/1.0\r\nHost: x\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.0 200 OK") || !strings.HasSuffix(got, "app says hi to /bob") {
		t.Fatalf("response:\n%s", got)
	}
}

func TestTCPStreamClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := portOf(t, ln.Addr().String())
	ln.Close()
	a := newTestAgent(t)
	c := streamPair(t, a, tunnel.Header{Kind: tunnel.KindTCP, User: "bob", SessionID: "app3", Port: port})
	_ = c.SetDeadline(time.Now().Add(testTimeout))
	if b, err := io.ReadAll(c); len(b) != 0 {
		t.Fatalf("read %q (%v) from a stream to a closed port, want it closed", b, err)
	}
}
