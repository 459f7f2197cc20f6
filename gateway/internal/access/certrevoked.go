package access

import (
	"context"
	"strconv"
)

// CertRevocationReader is the store's read of revoked certificates and
// keys (acl.CertRevocations).
type CertRevocationReader interface {
	CertRevoked(ctx context.Context, serial uint64, fingerprint string) (bool, error)
}

// CertRevoked asks st whether a certificate serial (0: none) or key is
// revoked, through the cache like every lookup that identifies a user:
// while the store is unreachable, within the grace, the last answer
// stands, so that the key lookups' grace is not undone here. Every store
// event (EventCertRevoked included) clears the cache.
func (l *Lookups) CertRevoked(ctx context.Context, st CertRevocationReader, serial uint64, fingerprint string) (bool, error) {
	key := "certrevoked\x00" + strconv.FormatUint(serial, 10) + "\x00" + fingerprint
	return cachedLookup(ctx, l, key, func(ctx context.Context) (bool, error) {
		return st.CertRevoked(ctx, serial, fingerprint)
	})
}
