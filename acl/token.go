package acl

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// Token prefixes make leaked secrets recognisable by scanners.
const (
	APITokenPrefix   = "wsg_"
	AgentTokenPrefix = "wsga_"
)

// NewSecret returns prefix followed by 256 random bits, URL-safe.
func NewSecret(prefix string) string {
	var b [32]byte
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b[:])
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// NewID returns a short random identifier (for tokens and sessions).
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// HashToken is how secrets are stored and looked up: hex SHA-256. Secrets
// carry 256 random bits, so a fast hash is enough; no salt is needed to
// resist guessing, and a fixed hash allows lookup by hash.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
