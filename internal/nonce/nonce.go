// Package nonce issues and checks stateless, short-lived challenges: a
// token carries its expiry and an HMAC over a purpose, a caller's binding
// (who and what the challenge is for) and the token's own bytes, so any
// replica holding the same secret can check it without storing anything.
//
// A token proves only that this issuer made it for this purpose and
// binding and that it has not expired; it is not single-use (stateless).
// Callers keep ttl short and bind everything the answer must be about.
package nonce

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors Verify returns; match them with errors.Is.
var (
	// ErrInvalid is a token that is malformed or was not issued by this
	// secret for this purpose and binding.
	ErrInvalid = errors.New("challenge is not valid")
	// ErrExpired is a genuine token past its expiry.
	ErrExpired = errors.New("challenge has expired")
)

const (
	prefix   = "v1."
	randLen  = 16
	bodyLen  = randLen + 8 // random bytes, then expiry as unix seconds
	macLen   = sha256.Size
	minKeyLn = 16
)

var b64 = base64.RawURLEncoding

// Issuer issues and verifies tokens with one secret.
type Issuer struct {
	secret []byte
	now    func() time.Time
}

// New returns an Issuer keyed by secret (at least 16 bytes); now is the
// clock, time.Now when nil.
func New(secret []byte, now func() time.Time) (*Issuer, error) {
	if len(secret) < minKeyLn {
		return nil, fmt.Errorf("nonce: secret is %d bytes, want at least %d", len(secret), minKeyLn)
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{secret: append([]byte(nil), secret...), now: now}, nil
}

// Issue returns a token for purpose and binding, valid for ttl. The token
// is printable ASCII (URL-safe base64 and dots) and holds no secret.
func (i *Issuer) Issue(purpose string, binding []byte, ttl time.Duration) string {
	body := make([]byte, bodyLen)
	if _, err := rand.Read(body[:randLen]); err != nil {
		// crypto/rand does not fail on supported platforms (Go 1.24+).
		panic(fmt.Sprintf("nonce: read random: %v", err))
	}
	binary.BigEndian.PutUint64(body[randLen:], uint64(i.now().Add(ttl).Unix()))
	return prefix + b64.EncodeToString(body) + "." + b64.EncodeToString(i.mac(purpose, binding, body))
}

// Verify checks that token was issued by this secret for purpose and
// binding and has not expired. It says ErrExpired only for a token whose
// MAC is good, so a forged one never learns anything but ErrInvalid.
func (i *Issuer) Verify(token, purpose string, binding []byte) error {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return ErrInvalid
	}
	bodyText, macText, ok := strings.Cut(rest, ".")
	if !ok {
		return ErrInvalid
	}
	body, ok := decode(bodyText, bodyLen)
	if !ok {
		return ErrInvalid
	}
	mac, ok := decode(macText, macLen)
	if !ok {
		return ErrInvalid
	}
	if !hmac.Equal(mac, i.mac(purpose, binding, body)) {
		return ErrInvalid
	}
	expiry := int64(binary.BigEndian.Uint64(body[randLen:]))
	if i.now().Unix() >= expiry {
		return ErrExpired
	}
	return nil
}

// decode reads exactly n bytes of canonical base64: the decoder skips
// newlines, and one token must have one spelling.
func decode(s string, n int) ([]byte, bool) {
	b, err := b64.DecodeString(s)
	if err != nil || len(b) != n || b64.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}

// mac covers purpose and binding length-prefixed, so no two (purpose,
// binding) pairs encode alike.
func (i *Issuer) mac(purpose string, binding, body []byte) []byte {
	h := hmac.New(sha256.New, i.secret)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(purpose)))
	h.Write(n[:])
	h.Write([]byte(purpose))
	binary.BigEndian.PutUint64(n[:], uint64(len(binding)))
	h.Write(n[:])
	h.Write(binding)
	h.Write(body)
	return h.Sum(nil)
}
