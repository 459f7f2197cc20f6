package tlsconf

import (
	"net/netip"
	"strings"
)

// IsLoopbackHost reports whether host (a URL's host name, without port;
// brackets around an IPv6 address are tolerated) names this machine's
// loopback: "localhost", 127.0.0.0/8 or ::1 (also as ::ffff:127.x.y.z).
// Cleartext to such a host never crosses a network.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") || strings.EqualFold(host, "localhost.") {
		return true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return a.Unmap().IsLoopback()
}
