package storekit

import (
	"cmp"
	"slices"

	"github.com/wsgate/wsgate/acl"
)

// SortRevokedCerts orders revocations oldest first, then by key.
func SortRevokedCerts(rs []acl.RevokedCert) {
	slices.SortFunc(rs, func(a, b acl.RevokedCert) int {
		if c := a.RevokedAt.Compare(b.RevokedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.RevocationKey(), b.RevocationKey())
	})
}

// CertRevocationKeys are the store keys CertRevoked looks up.
func CertRevocationKeys(serial uint64, fingerprint string) []string {
	var keys []string
	if serial != 0 {
		keys = append(keys, acl.RevokedCert{Serial: serial}.RevocationKey())
	}
	if fingerprint != "" {
		keys = append(keys, acl.RevokedCert{Fingerprint: fingerprint}.RevocationKey())
	}
	return keys
}
