package edge

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// Bounds on the work one request's headers can cause.
const (
	// maxForwardedLen is the most bytes of Forwarded header read; a longer
	// one is ignored as malformed (X-Forwarded-For is then used).
	maxForwardedLen = 8 << 10
	// maxHops is the most hops walked from the right; when all of them are
	// trusted proxies the client is taken to be the peer.
	maxHops = 32
)

// hop is one proxy hop as a header reports it: the address the proxy saw
// its request come from (invalid when "unknown", obfuscated or unreadable)
// and the scheme of that request ("" when not given).
type hop struct {
	from  netip.AddrPort
	proto string
}

// origin says who the client is, behind the trusted peer, according to the
// request's headers: its address (invalid when the headers name none; the
// peer's address then stands) and the scheme it used ("" when not given).
//
// Forwarded (RFC 7239) is read when present and well formed, else
// X-Forwarded-For and X-Forwarded-Proto. Hops are walked from the right:
// trusted proxies are skipped and the first hop that is not one is the
// client, since anything further left was written by the client or by
// proxies we know nothing about.
func origin(p Proxies, h http.Header) (addr netip.AddrPort, scheme string) {
	protos, protosAll := lastItems(h.Values("X-Forwarded-Proto"), maxHops)
	lastProto := ""
	if len(protos) > 0 {
		lastProto = parseProto(protos[0])
	}

	if hops, all, ok := parseForwarded(h.Values("Forwarded")); ok && len(hops) > 0 {
		k, found := pick(p, hops, all)
		if !found {
			return netip.AddrPort{}, lastProto
		}
		scheme = hops[k].proto
		if scheme == "" {
			scheme = lastProto
		}
		return hops[k].from, scheme
	}

	items, all := lastItems(h.Values("X-Forwarded-For"), maxHops)
	hops := make([]hop, len(items))
	for i, item := range items {
		hops[i].from, _ = parseNode(item)
	}
	k, found := pick(p, hops, all)
	if !found {
		return netip.AddrPort{}, lastProto
	}
	// Proxies usually overwrite X-Forwarded-Proto; when each hop appended
	// one instead, the client's hop has its own.
	scheme = lastProto
	if all && protosAll && len(protos) == len(items) {
		scheme = parseProto(protos[k])
	}
	return hops[k].from, scheme
}

// pick walks hops, nearest first, past the trusted proxies and returns the
// index of the client's hop. When every hop is a trusted proxy the farthest
// is the client, unless the list was cut short (all is false): found is
// then false.
func pick(p Proxies, hops []hop, all bool) (k int, found bool) {
	for k, hop := range hops {
		if !hop.from.IsValid() || !p.trustsIP(hop.from.Addr()) {
			return k, true
		}
	}
	if all && len(hops) > 0 {
		return len(hops) - 1, true
	}
	return 0, false
}

// lastItems returns the comma-separated items of a header's values,
// rightmost first, at most max of them, trimmed and without empty ones; all
// reports whether that is every item. It scans only as far as it needs.
func lastItems(values []string, max int) (items []string, all bool) {
	for v := len(values) - 1; v >= 0; v-- {
		s := values[v]
		for {
			i := strings.LastIndexByte(s, ',')
			item := strings.TrimSpace(s[i+1:])
			if item != "" {
				if len(items) == max {
					return items, false
				}
				items = append(items, item)
			}
			if i < 0 {
				break
			}
			s = s[:i]
		}
	}
	return items, true
}

// parseProto keeps "http" and "https" (any case) and drops anything else.
func parseProto(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "http" || s == "https" {
		return s
	}
	return ""
}

// parseNode reads a hop's address: an IP, "ip:port" or "[ipv6]:port"; a
// missing or obfuscated ("_x") port reads as 0. "unknown", obfuscated
// identifiers and anything unreadable are not addresses.
func parseNode(s string) (netip.AddrPort, bool) {
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.AddrPort{}, false
		}
		host, port = s[1:end], s[end+1:]
		if port != "" {
			if port[0] != ':' {
				return netip.AddrPort{}, false
			}
			port = port[1:]
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, false
	}
	var n uint64
	if port != "" && port[0] != '_' {
		if n, err = strconv.ParseUint(port, 10, 16); err != nil {
			return netip.AddrPort{}, false
		}
	}
	return netip.AddrPortFrom(ip.WithZone("").Unmap(), uint16(n)), true
}

// parseForwarded reads RFC 7239 Forwarded header values into hops, nearest
// (rightmost) first, at most maxHops of them; all reports whether that is
// every element. ok is false when the header is malformed or too long, and
// then it is to be ignored.
func parseForwarded(values []string) (hops []hop, all, ok bool) {
	n := 0
	for _, v := range values {
		if n += len(v); n > maxForwardedLen {
			return nil, false, false
		}
	}
	var elems []hop
	for _, v := range values {
		for s := v; ; {
			elem, rest, more, ok := forwardedElement(s)
			if !ok {
				return nil, false, false
			}
			if elem != nil {
				elems = append(elems, *elem)
			}
			if !more {
				break
			}
			s = rest
		}
	}
	all = len(elems) <= maxHops
	for i := len(elems) - 1; i >= 0 && len(hops) < maxHops; i-- {
		hops = append(hops, elems[i])
	}
	return hops, all, true
}

// forwardedElement reads one element ("for=...;proto=...") from the front of
// s; elem is nil for an empty element. more says a comma followed, and rest
// is what comes after it.
func forwardedElement(s string) (elem *hop, rest string, more, ok bool) {
	var h hop
	seen := false
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		if s[0] == ',' {
			rest, more = s[1:], true
			break
		}
		if s[0] == ';' {
			s = s[1:]
			continue
		}
		name, value, after, ok := forwardedPair(s)
		if !ok {
			return nil, "", false, false
		}
		seen = true
		switch strings.ToLower(name) {
		case "for":
			h.from, _ = parseNode(value)
		case "proto":
			h.proto = parseProto(value)
		}
		s = after
	}
	if !seen {
		return nil, rest, more, true
	}
	return &h, rest, more, true
}

// forwardedPair reads `name=value` or `name="quoted value"` from the front
// of s.
func forwardedPair(s string) (name, value, rest string, ok bool) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return "", "", "", false
	}
	name = strings.TrimSpace(s[:eq])
	if name == "" || strings.ContainsAny(name, ",;\" \t") {
		return "", "", "", false
	}
	s = strings.TrimLeft(s[eq+1:], " \t")
	if strings.HasPrefix(s, `"`) {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\':
				if i+1 == len(s) {
					return "", "", "", false
				}
				i++
				b.WriteByte(s[i])
			case '"':
				rest = strings.TrimLeft(s[i+1:], " \t")
				if rest != "" && rest[0] != ';' && rest[0] != ',' {
					return "", "", "", false
				}
				return name, b.String(), rest, true
			default:
				b.WriteByte(c)
			}
		}
		return "", "", "", false // unterminated
	}
	end := strings.IndexAny(s, ";,")
	if end < 0 {
		end = len(s)
	}
	value = strings.TrimSpace(s[:end])
	if value == "" || strings.ContainsAny(value, "\" \t") {
		return "", "", "", false
	}
	return name, value, s[end:], true
}
