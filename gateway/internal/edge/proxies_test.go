package edge

import (
	"strings"
	"testing"
)

func TestParseProxies(t *testing.T) {
	tests := []struct {
		list    string
		want    string // String() of the result
		wantErr string // a part of the error; "" for none
	}{
		{list: "", want: ""},
		{list: " , ", want: ""},
		{list: "10.0.0.0/8", want: "10.0.0.0/8"},
		{list: " 10.0.0.0/8 , 192.0.2.7,fd00::/8, ::1 ", want: "10.0.0.0/8,192.0.2.7,fd00::/8,::1"},
		{list: "10.1.2.3/8", want: "10.0.0.0/8"},          // host bits cleared
		{list: "192.0.2.7/32", want: "192.0.2.7"},         // a single address
		{list: "::ffff:192.0.2.7", want: "192.0.2.7"},     // mapped, read as IPv4
		{list: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"}, // mapped range
		{list: "10.0.0.0/8,", want: "10.0.0.0/8"},         // trailing comma
		{list: "10.0.0.0/33", wantErr: `"10.0.0.0/33"`},   // bad bits
		{list: "10.0.0.0/8, bogus", wantErr: `"bogus"`},   // names the entry
		{list: "10.0.0.0/8;10.1.0.0/16", wantErr: `"10.0.0.0/8;10.1.0.0/16"`},
		{list: "fe80::1%eth0", wantErr: "zone"},
		{list: "example.com", wantErr: `"example.com"`},
		{list: "1.2.3.4:22", wantErr: `"1.2.3.4:22"`},
	}
	for _, tt := range tests {
		t.Run(tt.list, func(t *testing.T) {
			p, err := ParseProxies(tt.list)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseProxies(%q) error = %v, want one containing %s", tt.list, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseProxies(%q): %v", tt.list, err)
			}
			if got := p.String(); got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			again, err := ParseProxies(p.String())
			if err != nil || again.String() != tt.want {
				t.Fatalf("String() does not parse back: %q, %v", again.String(), err)
			}
		})
	}
}

func TestProxiesTrusts(t *testing.T) {
	p, err := ParseProxies("10.0.0.0/8, 192.0.2.7, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"10.1.2.3:443", true},
		{"10.1.2.3", true},
		{"11.0.0.1:443", false},
		{"192.0.2.7:1", true},
		{"192.0.2.8:1", false},
		{"[::ffff:10.9.9.9]:80", true}, // IPv4-mapped
		{"::ffff:10.9.9.9", true},
		{"[2001:db8::1]:22", true},
		{"2001:db8::1", true},
		{"[2001:db8::1]", true},
		{"[fe80::1%eth0]:22", false},
		{"[2001:db9::1]:22", false},
		{"", false},
		{"not-an-ip:80", false},
		{"@", false}, // a unix socket peer
	}
	for _, tt := range tests {
		if got := p.Trusts(tt.addr); got != tt.want {
			t.Errorf("Trusts(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if (Proxies{}).Trusts("127.0.0.1:1") {
		t.Error("the zero Proxies trusts 127.0.0.1")
	}
}
