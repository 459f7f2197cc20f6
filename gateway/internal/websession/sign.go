package websession

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// Kind says what a signed value is for; a value of one kind is never
// accepted as another.
type Kind string

// Kinds of signed values.
const (
	// KindSession is the signed-in session on the gateway's origin.
	KindSession Kind = "session"
	// KindWebCode signs a browser in (`wsgate web`): single use.
	KindWebCode Kind = "web-code"
	// KindAppCode carries a sign-in to one app host: single use.
	KindAppCode Kind = "app-code"
	// KindTicket is the cookie of one app host.
	KindTicket Kind = "ticket"
)

// Lifetimes; each is also capped by the token the value rests on.
const (
	SessionTTL = 12 * time.Hour
	TicketTTL  = time.Hour
	AppCodeTTL = 30 * time.Second
	WebCodeTTL = 60 * time.Second
	// StateTTL bounds an app host's state cookie: the sign-in round trip.
	StateTTL = 10 * time.Minute
)

// Claims is what a signed value says.
type Claims struct {
	Kind Kind   `json:"k"`
	User string `json:"u"`
	// TokenHash names the API token the value rests on (acl.HashToken).
	TokenHash string `json:"t"`
	// Host is the app host (lower case, with the port the browser used)
	// an app code or ticket is for.
	Host string `json:"h,omitempty"`
	// State is the app host's state cookie an app code is bound to.
	State string `json:"s,omitempty"`
	// ID is random: it makes every value unique and names a code for Once.
	ID      string `json:"i"`
	Expires int64  `json:"e"` // unix milliseconds
}

// ExpiresAt is when c stops being valid.
func (c Claims) ExpiresAt() time.Time { return time.UnixMilli(c.Expires) }

// Errors of Verify and Redeem; match them with errors.Is.
var (
	ErrInvalid = errors.New("invalid or forged sign-in value")
	ErrExpired = errors.New("sign-in value has expired")
	ErrUsed    = errors.New("one-time code was already used")
)

// SecretStore gives the shared signing key; acl.Store satisfies it.
type SecretStore interface {
	Secret(ctx context.Context, name string) ([]byte, error)
	// UseOnce makes one-time codes single-use on every replica.
	acl.OnceStore
}

// secretName names the store secret values are signed with.
const secretName = "web-session"

// Signer signs and checks values with the store's shared key, read on
// first use (a store down at start does not stop the gateway).
type Signer struct {
	store SecretStore
	now   func() time.Time

	mu  sync.Mutex
	key []byte
}

// New returns a Signer keyed by store's "web-session" secret; now is the
// clock, time.Now when nil.
func New(store SecretStore, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{store: store, now: now}
}

// Now is the Signer's clock.
func (s *Signer) Now() time.Time { return s.now() }

func (s *Signer) signingKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	k, err := s.store.Secret(ctx, secretName)
	if err != nil {
		return nil, fmt.Errorf("web session key: %w", err)
	}
	if len(k) < 16 {
		return nil, fmt.Errorf("web session key: %d bytes, want at least 16", len(k))
	}
	s.key = k
	return k, nil
}

var b64 = base64.RawURLEncoding

// Sign fills c's ID and its expiry — now+ttl, or notAfter when that is
// earlier and not zero — and returns the signed value and the expiry.
func (s *Signer) Sign(ctx context.Context, c Claims, ttl time.Duration, notAfter time.Time) (string, time.Time, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	exp := s.now().Add(ttl)
	if !notAfter.IsZero() && notAfter.Before(exp) {
		exp = notAfter
	}
	var id [16]byte
	_, _ = rand.Read(id[:]) // never fails on supported platforms (Go 1.24+)
	c.ID, c.Expires = b64.EncodeToString(id[:]), exp.UnixMilli()
	body, err := json.Marshal(c)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign: %w", err)
	}
	payload := b64.EncodeToString(body)
	return payload + "." + b64.EncodeToString(mac(key, payload)), exp, nil
}

// Verify checks that value was signed here, is of kind and has not
// expired. Only a genuine value can be ErrExpired.
func (s *Signer) Verify(ctx context.Context, value string, kind Kind) (Claims, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return Claims{}, err
	}
	payload, sig, ok := strings.Cut(value, ".")
	if !ok {
		return Claims{}, ErrInvalid
	}
	got, err := b64.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, payload)) {
		return Claims{}, ErrInvalid
	}
	body, err := b64.DecodeString(payload)
	if err != nil {
		return Claims{}, ErrInvalid
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil || c.Kind != kind || c.User == "" || c.TokenHash == "" || c.ID == "" {
		return Claims{}, ErrInvalid
	}
	if !s.now().Before(c.ExpiresAt()) {
		return Claims{}, ErrExpired
	}
	return c, nil
}

// Redeem is Verify for a one-time code: a code is accepted once, on any
// replica (the store records its use until it expires). A store that
// cannot record the use refuses the code.
func (s *Signer) Redeem(ctx context.Context, value string, kind Kind) (Claims, error) {
	c, err := s.Verify(ctx, value, kind)
	if err != nil {
		return Claims{}, err
	}
	first, err := s.store.UseOnce(ctx, "web:"+string(kind)+":"+c.ID, c.ExpiresAt())
	if err != nil {
		return Claims{}, fmt.Errorf("redeem code: %w", err)
	}
	if !first {
		return Claims{}, ErrUsed
	}
	return c, nil
}

// mac is domain-separated from every other use of the key.
func mac(key []byte, payload string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("wsgate-web-v1\x00"))
	h.Write([]byte(payload))
	return h.Sum(nil)
}
