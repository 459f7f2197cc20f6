package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestOrigin(t *testing.T) {
	// 10.0.0.0/8 are our proxies; 198.51.100.0/24 is a CDN we also trust.
	p, err := ParseProxies("10.0.0.0/8, 198.51.100.0/24, fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	many := strings.Repeat("10.0.0.1, ", 40)
	tests := []struct {
		name       string
		header     http.Header
		wantAddr   string // "" when the peer's address stands
		wantScheme string
	}{
		{name: "no headers", header: http.Header{}},

		// Forwarded
		{name: "forwarded one element",
			header:   http.Header{"Forwarded": {"for=192.0.2.60;proto=https;by=203.0.113.43"}},
			wantAddr: "192.0.2.60:0", wantScheme: "https"},
		{name: "forwarded with port, case-insensitive names",
			header:   http.Header{"Forwarded": {`For="192.0.2.60:4711"; PROTO=HTTP`}},
			wantAddr: "192.0.2.60:4711", wantScheme: "http"},
		{name: "forwarded quoted IPv6 with port",
			header:   http.Header{"Forwarded": {`for="[2001:db8:cafe::17]:4711";proto=https`}},
			wantAddr: "[2001:db8:cafe::17]:4711", wantScheme: "https"},
		{name: "forwarded quoted IPv6 without port",
			header:   http.Header{"Forwarded": {`for="[2001:db8:cafe::17]"`}},
			wantAddr: "[2001:db8:cafe::17]:0"},
		{name: "forwarded several elements: trusted hops skipped",
			header:   http.Header{"Forwarded": {"for=203.0.113.9;proto=https, for=198.51.100.17;proto=https, for=10.1.1.1;proto=http"}},
			wantAddr: "203.0.113.9:0", wantScheme: "https"},
		{name: "forwarded several header lines",
			header:   http.Header{"Forwarded": {"for=203.0.113.9;proto=https", "for=10.1.1.1;proto=http"}},
			wantAddr: "203.0.113.9:0", wantScheme: "https"},
		{name: "forwarded: a spoofed leftmost element is not the client",
			header:   http.Header{"Forwarded": {"for=1.1.1.1, for=203.0.113.9;proto=https"}},
			wantAddr: "203.0.113.9:0", wantScheme: "https"},
		{name: "forwarded: every hop trusted, the farthest is the client",
			header:   http.Header{"Forwarded": {"for=10.2.2.2, for=10.1.1.1"}},
			wantAddr: "10.2.2.2:0"},
		{name: "forwarded unknown: peer stands, scheme kept",
			header:     http.Header{"Forwarded": {"for=unknown;proto=https"}},
			wantScheme: "https"},
		{name: "forwarded obfuscated: peer stands",
			header: http.Header{"Forwarded": {"for=_hidden, for=10.1.1.1"}}},
		{name: "forwarded obfuscated port reads as 0",
			header:   http.Header{"Forwarded": {`for="192.0.2.60:_p1"`}},
			wantAddr: "192.0.2.60:0"},
		{name: "forwarded comma and semicolon inside quotes",
			header:   http.Header{"Forwarded": {`for=192.0.2.60;host="a,b;c";proto=https`}},
			wantAddr: "192.0.2.60:0", wantScheme: "https"},
		{name: "forwarded quoted pair escapes",
			header:   http.Header{"Forwarded": {`for="192.0.2.\60"`}},
			wantAddr: "192.0.2.60:0"},
		{name: "forwarded IPv4-mapped is read as IPv4",
			header:   http.Header{"Forwarded": {`for="[::ffff:192.0.2.60]"`}},
			wantAddr: "192.0.2.60:0"},
		{name: "forwarded bad proto ignored, X-Forwarded-Proto used",
			header: http.Header{"Forwarded": {"for=192.0.2.60;proto=gopher"},
				"X-Forwarded-Proto": {"https"}},
			wantAddr: "192.0.2.60:0", wantScheme: "https"},
		{name: "forwarded preferred over X-Forwarded-For",
			header: http.Header{"Forwarded": {"for=192.0.2.60"},
				"X-Forwarded-For": {"192.0.2.99"}},
			wantAddr: "192.0.2.60:0"},
		{name: "forwarded unterminated quote: X-Forwarded-For used",
			header: http.Header{"Forwarded": {`for="192.0.2.60`},
				"X-Forwarded-For": {"192.0.2.99"}},
			wantAddr: "192.0.2.99:0"},
		{name: "forwarded garbage: X-Forwarded-For used",
			header: http.Header{"Forwarded": {"%%%garbage%%%"},
				"X-Forwarded-For": {"192.0.2.99"}},
			wantAddr: "192.0.2.99:0"},
		{name: "forwarded garbage alone: peer stands",
			header: http.Header{"Forwarded": {"for"}}},
		{name: "forwarded unquoted value with space",
			header: http.Header{"Forwarded": {"for=192.0.2.60 x"}}},
		{name: "forwarded junk after quoted value",
			header: http.Header{"Forwarded": {`for="192.0.2.60"x`}}},
		{name: "forwarded too long: ignored",
			header: http.Header{"Forwarded": {"for=192.0.2.60" + strings.Repeat(";a=b", maxForwardedLen/4)}}},
		{name: "forwarded port out of range: peer stands",
			header: http.Header{"Forwarded": {`for="192.0.2.60:70000"`}}},

		// X-Forwarded-For
		{name: "xff single",
			header:   http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Proto": {"https"}},
			wantAddr: "203.0.113.9:0", wantScheme: "https"},
		{name: "xff chain with trusted hops",
			header:   http.Header{"X-Forwarded-For": {"203.0.113.9, 198.51.100.17, 10.1.1.1"}},
			wantAddr: "203.0.113.9:0"},
		{name: "xff spoofed leftmost entries are not the client",
			header:   http.Header{"X-Forwarded-For": {"1.1.1.1, 2.2.2.2, 203.0.113.9, 10.1.1.1"}},
			wantAddr: "203.0.113.9:0"},
		{name: "xff several header lines",
			header:   http.Header{"X-Forwarded-For": {"1.1.1.1, 203.0.113.9", "10.1.1.1"}},
			wantAddr: "203.0.113.9:0"},
		{name: "xff IPv6, bracketed with port, and IPv4 with port",
			header:   http.Header{"X-Forwarded-For": {"2001:db8::1, [fd00::5]:8080"}},
			wantAddr: "[2001:db8::1]:0"},
		{name: "xff with port",
			header:   http.Header{"X-Forwarded-For": {"203.0.113.9:5555"}},
			wantAddr: "203.0.113.9:5555"},
		{name: "xff all trusted: farthest",
			header:   http.Header{"X-Forwarded-For": {"10.3.3.3,10.2.2.2"}},
			wantAddr: "10.3.3.3:0"},
		{name: "xff garbage nearest: peer stands",
			header: http.Header{"X-Forwarded-For": {"203.0.113.9, not-an-ip"}}},
		{name: "xff garbage beyond the client is never read",
			header:   http.Header{"X-Forwarded-For": {"garbage!!, 203.0.113.9"}},
			wantAddr: "203.0.113.9:0"},
		{name: "xff empty items skipped",
			header:   http.Header{"X-Forwarded-For": {" , 203.0.113.9 ,, "}},
			wantAddr: "203.0.113.9:0"},
		{name: "xff more trusted hops than walked: peer stands",
			header: http.Header{"X-Forwarded-For": {"203.0.113.9, " + many + "10.0.0.1"}}},
		{name: "xff long spoofed prefix does not hide the client",
			header:   http.Header{"X-Forwarded-For": {strings.Repeat("1.1.1.1, ", 500) + "203.0.113.9, 10.0.0.1"}},
			wantAddr: "203.0.113.9:0"},
		{name: "xfp per hop: the client's hop",
			header: http.Header{"X-Forwarded-For": {"203.0.113.9, 10.1.1.1"},
				"X-Forwarded-Proto": {"https, http"}},
			wantAddr: "203.0.113.9:0", wantScheme: "https"},
		{name: "xfp single value applies",
			header: http.Header{"X-Forwarded-For": {"203.0.113.9, 10.1.1.1"},
				"X-Forwarded-Proto": {"HTTPS"}},
			wantAddr: "203.0.113.9:0", wantScheme: "https"},
		{name: "xfp garbage ignored",
			header: http.Header{"X-Forwarded-For": {"203.0.113.9"},
				"X-Forwarded-Proto": {"javascript"}},
			wantAddr: "203.0.113.9:0"},
		{name: "xfp alone",
			header:     http.Header{"X-Forwarded-Proto": {"https"}},
			wantScheme: "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, scheme := origin(p, tt.header)
			gotAddr := ""
			if addr.IsValid() {
				gotAddr = addr.String()
			}
			if gotAddr != tt.wantAddr || scheme != tt.wantScheme {
				t.Fatalf("origin = (%q, %q), want (%q, %q)", gotAddr, scheme, tt.wantAddr, tt.wantScheme)
			}
		})
	}
}

func TestParseForwardedBoundsHops(t *testing.T) {
	var elems []string
	for i := range maxHops + 5 {
		elems = append(elems, fmt.Sprintf("for=10.0.0.%d", i))
	}
	hops, all, ok := parseForwarded([]string{strings.Join(elems, ",")})
	if !ok || all || len(hops) != maxHops {
		t.Fatalf("parseForwarded: %d hops, all=%v, ok=%v; want %d, false, true", len(hops), all, ok, maxHops)
	}
	if got := hops[0].from.String(); got != fmt.Sprintf("10.0.0.%d:0", maxHops+4) {
		t.Fatalf("nearest hop = %s, want the rightmost element", got)
	}
}
