package edge

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
)

// Limits caps connections that are not yet trusted (SSH connections that
// have not authenticated, HTTP connections) the way OpenSSH's MaxStartups
// and PerSourceMaxStartups do: from Start on, a new connection is refused
// with probability Rate percent, rising linearly to 100 % at Full; and
// no source holds more than PerSource at once. A zero field disables its
// limit.
type Limits struct {
	Start, Rate, Full int
	PerSource         int
}

// ParseStartups reads OpenSSH's "start:rate:full" (or a single "full")
// into l's Start, Rate and Full.
func ParseStartups(s string) (Limits, error) {
	var l Limits
	parts := strings.Split(s, ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return l, fmt.Errorf("startups %q: want START:RATE:FULL or FULL, non-negative integers", s)
		}
		nums[i] = n
	}
	switch len(nums) {
	case 1:
		l.Start, l.Full = nums[0], nums[0]
	case 3:
		l.Start, l.Rate, l.Full = nums[0], nums[1], nums[2]
	default:
		return l, fmt.Errorf("startups %q: want START:RATE:FULL or FULL", s)
	}
	return l, l.Validate()
}

// Validate reports limits that make no sense.
func (l Limits) Validate() error {
	switch {
	case l.Start < 0 || l.Rate < 0 || l.Full < 0 || l.PerSource < 0:
		return errors.New("limits must not be negative")
	case l.Rate > 100:
		return fmt.Errorf("rate %d%% is over 100%%", l.Rate)
	case l.Full > 0 && l.Start > l.Full:
		return fmt.Errorf("start %d is above full %d", l.Start, l.Full)
	}
	return nil
}

// String is the "start:rate:full" form.
func (l Limits) String() string { return fmt.Sprintf("%d:%d:%d", l.Start, l.Rate, l.Full) }

// Refusal says why a connection was refused; "" admits it.
type Refusal string

// Refusals.
const (
	RefusedPerSource Refusal = "per_source"   // its source holds PerSource
	RefusedEarlyDrop Refusal = "random_early" // dropped between Start and Full
	RefusedFull      Refusal = "full"         // Full are held
)

// Limiter counts held connections against Limits. The zero value is not
// usable; build it with NewLimiter.
type Limiter struct {
	l    Limits
	rand func(n int) int // in [0, n)

	mu       sync.Mutex
	total    int
	bySource map[netip.Prefix]int
}

// NewLimiter returns a limiter for l; rnd draws the early drops (nil:
// math/rand/v2), injectable so that tests decide.
func NewLimiter(l Limits, rnd func(n int) int) *Limiter {
	if rnd == nil {
		rnd = rand.IntN
	}
	return &Limiter{l: l, rand: rnd, bySource: map[netip.Prefix]int{}}
}

// Admit counts a new connection from src, or refuses it. An admitted
// connection must call release exactly once (more calls do nothing) when
// it stops counting: authenticated, or closed. An invalid src (not an IP:
// a unix socket, a test pipe) shares one source.
func (lm *Limiter) Admit(src netip.Addr) (release func(), refused Refusal) {
	key := SourceOf(src)
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.l.PerSource > 0 && lm.bySource[key] >= lm.l.PerSource {
		return nil, RefusedPerSource
	}
	if r := lm.dropLocked(); r != "" {
		return nil, r
	}
	lm.total++
	lm.bySource[key]++
	var once sync.Once
	return func() { once.Do(func() { lm.release(key) }) }, ""
}

// dropLocked is MaxStartups' decision for one more connection.
func (lm *Limiter) dropLocked() Refusal {
	l := lm.l
	if l.Full == 0 {
		return ""
	}
	if lm.total >= l.Full {
		return RefusedFull
	}
	if lm.total < l.Start || l.Full == l.Start {
		return ""
	}
	// OpenSSH's sshd.c: p = rate + (100-rate)*(n-start)/(full-start).
	p := l.Rate + (100-l.Rate)*(lm.total-l.Start)/(l.Full-l.Start)
	if lm.rand(100) < p {
		return RefusedEarlyDrop
	}
	return ""
}

func (lm *Limiter) release(key netip.Prefix) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	lm.total--
	if lm.bySource[key]--; lm.bySource[key] <= 0 {
		delete(lm.bySource, key)
	}
}

// Held is the number of connections counted now, and those of src's
// source.
func (lm *Limiter) Held(src netip.Addr) (total, source int) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	return lm.total, lm.bySource[SourceOf(src)]
}

// SourceOf is the source a connection from ip counts against: the address
// itself for IPv4, its /64 for IPv6 (one host commonly holds a whole /64).
func SourceOf(ip netip.Addr) netip.Prefix {
	ip = ip.WithZone("").Unmap()
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p
	}
	return netip.PrefixFrom(ip, 32)
}

// PeerAddr is the IP of a "host:port" peer address (net.Addr.String,
// http.Request.RemoteAddr); the zero Addr when there is none.
func PeerAddr(addr string) netip.Addr {
	ip, _ := parsePeer(addr)
	return ip
}
