package edge

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Proxies is a set of trusted proxy addresses: the peers whose forwarding
// headers (Forwarded, X-Forwarded-For, X-Forwarded-Proto) and PROXY protocol
// headers are believed. The zero value trusts nobody. A Proxies is immutable
// and safe for concurrent use.
type Proxies struct {
	prefixes []netip.Prefix
}

// ParseProxies parses a comma-separated list of CIDR ranges ("10.0.0.0/8",
// "fd00::/8") and single addresses ("192.0.2.1", "::1"). Spaces around the
// entries and empty entries are ignored, so "" trusts nobody. IPv4-mapped
// IPv6 entries are read as their IPv4 form, and host bits in a range are
// cleared. The error names the entry that is wrong.
func ParseProxies(list string) (Proxies, error) {
	var p Proxies
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		prefix, err := parseProxy(entry)
		if err != nil {
			return Proxies{}, fmt.Errorf("trusted proxy %q: %w", entry, err)
		}
		p.prefixes = append(p.prefixes, prefix)
	}
	return p, nil
}

func parseProxy(entry string) (netip.Prefix, error) {
	if strings.Contains(entry, "/") {
		prefix, err := netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not a CIDR range: %w", err)
		}
		addr, bits := prefix.Addr(), prefix.Bits()
		if addr.Is4In6() {
			if bits < 96 {
				return netip.Prefix{}, fmt.Errorf("IPv4-mapped range shorter than /96")
			}
			addr, bits = addr.Unmap(), bits-96
		}
		return netip.PrefixFrom(addr, bits).Masked(), nil
	}
	addr, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("not an IP address or CIDR range: %w", err)
	}
	if addr.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("an IPv6 zone is not allowed")
	}
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// Trusts reports whether the peer address, "host:port" (as in
// http.Request.RemoteAddr or net.Addr.String) or a bare IP, is a trusted
// proxy. Anything that is not an IP address is not trusted.
func (p Proxies) Trusts(addr string) bool {
	ip, ok := parsePeer(addr)
	return ok && p.trustsIP(ip)
}

func (p Proxies) trustsIP(ip netip.Addr) bool {
	for _, prefix := range p.prefixes {
		if prefix.Contains(ip) {
			return true
		}
	}
	return false
}

// empty reports whether nobody is trusted.
func (p Proxies) empty() bool { return len(p.prefixes) == 0 }

// String lists the trusted proxies in the form ParseProxies reads, single
// addresses without their /32 or /128; "" when nobody is trusted.
func (p Proxies) String() string {
	parts := make([]string, len(p.prefixes))
	for i, prefix := range p.prefixes {
		if prefix.IsSingleIP() {
			parts[i] = prefix.Addr().String()
		} else {
			parts[i] = prefix.String()
		}
	}
	return strings.Join(parts, ",")
}

// parsePeer reads the IP of "host:port", "[v6]:port" or a bare IP, without
// its zone and with an IPv4-mapped address as IPv4.
func parsePeer(addr string) (netip.Addr, bool) {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	} else if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		host = addr[1 : len(addr)-1]
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.WithZone("").Unmap(), true
}
