package gateway

import (
	"net"
	"os"
	"testing"
)

func TestDefaultAccessURL(t *testing.T) {
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	for _, tc := range []struct {
		addr string
		tls  bool
		want string
	}{
		{"127.0.0.1:8080", false, "http://127.0.0.1:8080"},
		{"127.0.0.1:8443", true, "https://127.0.0.1:8443"},
		{"[::1]:8080", false, "http://[::1]:8080"},
		{"0.0.0.0:8080", false, "http://" + net.JoinHostPort(host, "8080")},
		{"[::]:8443", true, "https://" + net.JoinHostPort(host, "8443")},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := DefaultAccessURL(addr, tc.tls); got != tc.want {
			t.Errorf("%s tls=%v: %q, want %q", tc.addr, tc.tls, got, tc.want)
		}
	}
}

func TestCheckAccessURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://gw.example.com/":      "https://gw.example.com",
		"http://10.1.2.3:8080":         "http://10.1.2.3:8080",
		"https://gw.example.com/base/": "https://gw.example.com/base",
	} {
		if got, err := checkAccessURL(in); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"gw.example.com", "ftp://gw", "https://", "https://u:p@gw", "https://gw/?x=1", "https://gw/#f", "://"} {
		if _, err := checkAccessURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
