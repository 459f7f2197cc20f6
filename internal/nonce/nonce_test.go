package nonce

import (
	"errors"
	"strings"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newIssuer(t *testing.T, secret string, c *clock) *Issuer {
	t.Helper()
	i, err := New([]byte(secret), c.now)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestVerify(t *testing.T) {
	c := &clock{t: time.Unix(1_900_000_000, 0)}
	iss := newIssuer(t, "0123456789abcdef0123456789abcdef", c)
	other := newIssuer(t, "fedcba9876543210fedcba9876543210", c)
	good := iss.Issue("key-proof", []byte("alice\x00SHA256:x"), time.Minute)
	flip := func(s string, at int) string {
		b := []byte(s)
		if b[at] == 'A' {
			b[at] = 'B'
		} else {
			b[at] = 'A'
		}
		return string(b)
	}
	cases := []struct {
		name    string
		token   string
		purpose string
		binding string
		advance time.Duration
		want    error
	}{
		{"good", good, "key-proof", "alice\x00SHA256:x", 0, nil},
		{"good until just before expiry", good, "key-proof", "alice\x00SHA256:x", time.Minute - time.Second, nil},
		{"expired", good, "key-proof", "alice\x00SHA256:x", time.Minute, ErrExpired},
		{"other purpose", good, "agent-upgrade", "alice\x00SHA256:x", 0, ErrInvalid},
		{"other binding", good, "key-proof", "bob\x00SHA256:x", 0, ErrInvalid},
		{"binding moved into purpose", good, "key-proofalice", "\x00SHA256:x", 0, ErrInvalid},
		{"other secret", other.Issue("key-proof", []byte("alice\x00SHA256:x"), time.Minute), "key-proof", "alice\x00SHA256:x", 0, ErrInvalid},
		{"body tampered", flip(good, 5), "key-proof", "alice\x00SHA256:x", 0, ErrInvalid},
		{"mac tampered", flip(good, len(good)-3), "key-proof", "alice\x00SHA256:x", 0, ErrInvalid},
		{"no prefix", strings.TrimPrefix(good, "v1."), "key-proof", "alice\x00SHA256:x", 0, ErrInvalid},
		{"no mac", good[:strings.LastIndex(good, ".")], "key-proof", "alice\x00SHA256:x", 0, ErrInvalid},
		{"empty", "", "key-proof", "alice\x00SHA256:x", 0, ErrInvalid},
		{"not base64", "v1.!!!.!!!", "key-proof", "alice\x00SHA256:x", 0, ErrInvalid},
		{"trailing newline", good + "\n", "key-proof", "alice\x00SHA256:x", 0, ErrInvalid},
	}
	start := c.t
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = start.Add(tc.advance)
			err := iss.Verify(tc.token, tc.purpose, []byte(tc.binding))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// A forged token past its "expiry" is invalid, not expired: only genuine
// tokens learn that they expired.
func TestForgedExpiredIsInvalid(t *testing.T) {
	c := &clock{t: time.Unix(1_900_000_000, 0)}
	iss := newIssuer(t, "0123456789abcdef0123456789abcdef", c)
	forged := newIssuer(t, "fedcba9876543210fedcba9876543210", c).Issue("p", nil, time.Second)
	c.t = c.t.Add(time.Hour)
	if err := iss.Verify(forged, "p", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Verify = %v, want ErrInvalid", err)
	}
}

func TestTokensDiffer(t *testing.T) {
	iss := newIssuer(t, "0123456789abcdef0123456789abcdef", &clock{t: time.Unix(1_900_000_000, 0)})
	a, b := iss.Issue("p", nil, time.Minute), iss.Issue("p", nil, time.Minute)
	if a == b {
		t.Fatalf("two tokens are equal: %s", a)
	}
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := New([]byte("short"), nil); err == nil {
		t.Fatal("New accepted a 5-byte secret")
	}
}
