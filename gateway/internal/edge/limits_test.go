package edge

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseStartups(t *testing.T) {
	tests := []struct {
		in      string
		want    Limits
		wantErr string
	}{
		{in: "10:30:100", want: Limits{Start: 10, Rate: 30, Full: 100}},
		{in: "64", want: Limits{Start: 64, Full: 64}},
		{in: "0:0:0", want: Limits{}},
		{in: "10:30", wantErr: "START:RATE:FULL"},
		{in: "a:30:100", wantErr: "non-negative"},
		{in: "-1:30:100", wantErr: "non-negative"},
		{in: "10:101:100", wantErr: "over 100"},
		{in: "100:30:10", wantErr: "above full"},
	}
	for _, tt := range tests {
		got, err := ParseStartups(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want one with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestSourceOf(t *testing.T) {
	tests := []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	}
	for _, tt := range tests {
		if got := SourceOf(netip.MustParseAddr(tt.ip)).String(); got != tt.want {
			t.Errorf("SourceOf(%s) = %s, want %s", tt.ip, got, tt.want)
		}
	}
	if SourceOf(PeerAddr("@")).IsValid() {
		t.Error("a non-IP peer has a valid source")
	}
}

// TestLimiterEarlyDrop: below Start every connection is admitted, at Full
// none, and in between the drop probability rises linearly from Rate,
// decided by the injected draw.
func TestLimiterEarlyDrop(t *testing.T) {
	tests := []struct {
		name   string
		limits Limits
		held   int // connections held (from distinct sources) before the one tested
		draw   int // what the random draw returns, in [0, 100)
		want   Refusal
	}{
		{"below_start", Limits{Start: 10, Rate: 30, Full: 100}, 9, 0, ""},
		{"at_start_draw_below_rate", Limits{Start: 10, Rate: 30, Full: 100}, 10, 29, RefusedEarlyDrop},
		{"at_start_draw_at_rate", Limits{Start: 10, Rate: 30, Full: 100}, 10, 30, ""},
		// Half way: 30 + 70*45/90 = 65.
		{"half_way_dropped", Limits{Start: 10, Rate: 30, Full: 100}, 55, 64, RefusedEarlyDrop},
		{"half_way_admitted", Limits{Start: 10, Rate: 30, Full: 100}, 55, 65, ""},
		{"just_below_full", Limits{Start: 10, Rate: 30, Full: 100}, 99, 98, RefusedEarlyDrop},
		{"full", Limits{Start: 10, Rate: 30, Full: 100}, 100, 99, RefusedFull},
		{"hard_cap", Limits{Start: 5, Full: 5}, 4, 0, ""},
		{"hard_cap_full", Limits{Start: 5, Full: 5}, 5, 99, RefusedFull},
		{"unlimited", Limits{}, 1000, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lm := NewLimiter(tt.limits, func(n int) int {
				if n != 100 {
					t.Fatalf("draw in [0, %d), want [0, 100)", n)
				}
				return tt.draw
			})
			// Fill without limits (so without draws), then test one more.
			lm.l = Limits{}
			for i := range tt.held {
				if _, r := lm.Admit(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})); r != "" {
					t.Fatalf("filling: %s", r)
				}
			}
			lm.l = tt.limits
			_, got := lm.Admit(netip.MustParseAddr("192.0.2.1"))
			if got != tt.want {
				t.Fatalf("with %d held: %q, want %q", tt.held, got, tt.want)
			}
		})
	}
}

// TestLimiterPerSource: one source holds at most PerSource, IPv6 by /64,
// and a release frees its slot (once, however often it is called).
func TestLimiterPerSource(t *testing.T) {
	lm := NewLimiter(Limits{PerSource: 2}, nil)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	r1, _ := lm.Admit(a)
	if _, r := lm.Admit(a); r != "" {
		t.Fatalf("second from a: %s", r)
	}
	if _, r := lm.Admit(a); r != RefusedPerSource {
		t.Fatalf("third from a: %q, want per_source", r)
	}
	if _, r := lm.Admit(b); r != "" {
		t.Fatalf("another source refused: %s", r)
	}
	r1()
	r1()
	if total, src := lm.Held(a); total != 2 || src != 1 {
		t.Fatalf("after a release (twice): total %d, a's %d; want 2, 1", total, src)
	}
	if _, r := lm.Admit(a); r != "" {
		t.Fatalf("after the release: %s", r)
	}

	v6 := NewLimiter(Limits{PerSource: 1}, nil)
	if _, r := v6.Admit(netip.MustParseAddr("2001:db8::1")); r != "" {
		t.Fatal(r)
	}
	if _, r := v6.Admit(netip.MustParseAddr("2001:db8::ffff:2")); r != RefusedPerSource {
		t.Fatalf("same /64: %q, want per_source", r)
	}
	if _, r := v6.Admit(netip.MustParseAddr("2001:db8:0:1::1")); r != "" {
		t.Fatalf("another /64: %s", r)
	}
}
