package edge

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// echo answers with what the handler sees: "RemoteAddr scheme secure".
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "%s %s %v", r.RemoteAddr, Scheme(r), Secure(r))
})

// backend serves echo behind Forwarded(trusted) on 127.0.0.1.
func backend(t *testing.T, trusted string) *httptest.Server {
	t.Helper()
	p, err := ParseProxies(trusted)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Forwarded(p, echo))
	t.Cleanup(srv.Close)
	return srv
}

// tlsProxy is a TLS-terminating reverse proxy on 127.0.0.1 in front of
// target; it appends the client to X-Forwarded-For as proxies do, sets
// X-Forwarded-Proto, and appends to Forwarded when forwarded is true.
func tlsProxy(t *testing.T, target string, forwarded bool) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"] // append, not replace
		pr.SetXForwarded()
		if forwarded {
			pr.Out.Header["Forwarded"] = pr.In.Header["Forwarded"]
			pr.Out.Header.Add("Forwarded", fmt.Sprintf("for=%q;proto=https", pr.In.RemoteAddr))
		}
	}}
	srv := httptest.NewTLSServer(rp)
	t.Cleanup(srv.Close)
	return srv
}

// clientFrom returns a client for srv that connects from the local address
// ip, and a func that says the local address of its last connection.
func clientFrom(t *testing.T, srv *httptest.Server, ip string) (*http.Client, func() string) {
	t.Helper()
	c := srv.Client()
	tr := c.Transport.(*http.Transport).Clone()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	var mu sync.Mutex
	var last string
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			last = conn.LocalAddr().String()
			mu.Unlock()
		}
		return conn, err
	}
	tr.DisableKeepAlives = true
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, func() string {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func get(t *testing.T, c *http.Client, url string, header http.Header) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	return string(body)
}

// The client connects from 127.0.0.2 to a TLS proxy on 127.0.0.1, which
// forwards to the gateway over plain HTTP.
func TestForwardedThroughTrustedProxy(t *testing.T) {
	spoof := http.Header{"X-Forwarded-For": {"203.0.113.66"}, "X-Forwarded-Proto": {"http"}}

	t.Run("X-Forwarded-For", func(t *testing.T) {
		proxy := tlsProxy(t, backend(t, "127.0.0.1/32").URL, false)
		c, _ := clientFrom(t, proxy, "127.0.0.2")
		if got, want := get(t, c, proxy.URL, spoof), "127.0.0.2:0 https true"; got != want {
			t.Fatalf("gateway saw %q, want %q", got, want)
		}
	})
	t.Run("Forwarded", func(t *testing.T) {
		proxy := tlsProxy(t, backend(t, "127.0.0.1").URL, true)
		c, local := clientFrom(t, proxy, "127.0.0.2")
		spoofed := spoof.Clone()
		spoofed.Set("Forwarded", "for=203.0.113.66;proto=http")
		got := get(t, c, proxy.URL, spoofed)
		if want := local() + " https true"; got != want {
			t.Fatalf("gateway saw %q, want %q", got, want)
		}
	})
}

func TestForwardedIgnoredFromUntrustedPeer(t *testing.T) {
	spoof := http.Header{
		"X-Forwarded-For":   {"203.0.113.66"},
		"X-Forwarded-Proto": {"https"},
		"Forwarded":         {"for=203.0.113.66;proto=https"},
	}
	t.Run("proxy not trusted", func(t *testing.T) {
		proxy := tlsProxy(t, backend(t, "10.0.0.0/8").URL, true)
		c, _ := clientFrom(t, proxy, "127.0.0.2")
		got := get(t, c, proxy.URL, spoof)
		if !strings.HasPrefix(got, "127.0.0.1:") || !strings.HasSuffix(got, " http false") {
			t.Fatalf("gateway saw %q, want the proxy's own address over http", got)
		}
	})
	t.Run("client direct", func(t *testing.T) {
		be := backend(t, "127.0.0.1")
		c, local := clientFrom(t, be, "127.0.0.2")
		got := get(t, c, be.URL, spoof)
		if want := local() + " http false"; got != want {
			t.Fatalf("gateway saw %q, want %q", got, want)
		}
	})
	t.Run("nobody trusted", func(t *testing.T) {
		be := backend(t, "")
		c, local := clientFrom(t, be, "127.0.0.1")
		got := get(t, c, be.URL, spoof)
		if want := local() + " http false"; got != want {
			t.Fatalf("gateway saw %q, want %q", got, want)
		}
	})
}

// A request straight over TLS is secure without any header.
func TestForwardedDirectTLS(t *testing.T) {
	p, err := ParseProxies("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(Forwarded(p, echo))
	t.Cleanup(srv.Close)
	c, local := clientFrom(t, srv, "127.0.0.1")
	got := get(t, c, srv.URL, http.Header{"X-Forwarded-Proto": {"http"}})
	if want := local() + " https true"; got != want {
		t.Fatalf("gateway saw %q, want %q", got, want)
	}
}

func TestSchemeAndSecure(t *testing.T) {
	withScheme := func(r *http.Request, s string) *http.Request {
		return r.WithContext(context.WithValue(r.Context(), schemeKey{}, s))
	}
	plain := httptest.NewRequest(http.MethodGet, "http://gw/", nil)
	overTLS := httptest.NewRequest(http.MethodGet, "https://gw/", nil)
	overTLS.TLS = &tls.ConnectionState{}
	tests := []struct {
		name   string
		r      *http.Request
		scheme string
	}{
		{"plain", plain, "http"},
		{"tls", overTLS, "https"},
		{"proxy says https", withScheme(plain, "https"), "https"},
		// A proxy that took plain http and reached us over TLS: a Secure
		// cookie would never come back.
		{"proxy says http over tls", withScheme(overTLS, "http"), "http"},
	}
	for _, tt := range tests {
		if got := Scheme(tt.r); got != tt.scheme {
			t.Errorf("%s: Scheme = %q, want %q", tt.name, got, tt.scheme)
		}
		if got := Secure(tt.r); got != (tt.scheme == "https") {
			t.Errorf("%s: Secure = %v", tt.name, got)
		}
	}
}

// The handler gets a copy: the caller's request is untouched.
func TestForwardedDoesNotChangeCallersRequest(t *testing.T) {
	p, err := ParseProxies("192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "http://gw/", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.5")
	r.Header.Set("X-Forwarded-Proto", "https")
	w := httptest.NewRecorder()
	Forwarded(p, echo).ServeHTTP(w, r)
	if got, want := w.Body.String(), "203.0.113.5:0 https true"; got != want {
		t.Fatalf("handler saw %q, want %q", got, want)
	}
	if r.RemoteAddr != "192.0.2.1:1234" || Secure(r) {
		t.Fatalf("caller's request changed: %s secure=%v", r.RemoteAddr, Secure(r))
	}
}
