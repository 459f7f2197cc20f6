package acl

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// RevokedCert is one revoked SSH credential: every user certificate with
// Serial (from any trusted CA), or every certificate of the key whose
// SHA256 fingerprint is Fingerprint, and that key itself. Exactly one of
// the two is set.
type RevokedCert struct {
	Serial      uint64 `json:"serial,omitempty,string"`
	Fingerprint string `json:"fingerprint,omitempty"`
	// Comment says why, for the list.
	Comment   string    `json:"comment,omitempty"`
	RevokedAt time.Time `json:"revoked_at"`
	// RevokedBy is the acting user of the write (WithActor).
	RevokedBy string `json:"revoked_by,omitempty"`
}

// RevocationKey is the revocation's identity in a store: "serial:N" or
// "key:SHA256:...".
func (r RevokedCert) RevocationKey() string {
	if r.Fingerprint != "" {
		return "key:" + r.Fingerprint
	}
	return "serial:" + strconv.FormatUint(r.Serial, 10)
}

// Validate checks that r names one serial or one key. Serial 0 is what
// certificates made without a serial carry, so it cannot be revoked by
// serial: revoke those by key.
func (r RevokedCert) Validate() error {
	switch {
	case r.Serial != 0 && r.Fingerprint != "":
		return Invalid("serial", "revoke by serial or by key, not both")
	case r.Fingerprint != "":
		if !strings.HasPrefix(r.Fingerprint, "SHA256:") || len(r.Fingerprint) > 100 {
			return Invalid("fingerprint", "fingerprint %q is not a SHA256 key fingerprint", r.Fingerprint)
		}
	case r.Serial == 0:
		return Invalid("serial", "serial 0 cannot be revoked (certificates made without a serial carry it); revoke the key instead")
	}
	if len(r.Comment) > 1024 {
		return Invalid("comment", "comment is longer than 1024 bytes")
	}
	return nil
}

// CertRevocations stores revoked SSH certificates and keys. Both backends
// implement it; it is part of Store.
type CertRevocations interface {
	// RevokeCert stores r (RevokedAt and RevokedBy are set from the write)
	// and emits EventCertRevoked; revoking the same serial or key again is
	// a *ConflictError.
	RevokeCert(ctx context.Context, r RevokedCert) error
	// ListRevokedCerts lists every revocation, oldest first.
	ListRevokedCerts(ctx context.Context) ([]RevokedCert, error)
	// CertRevoked reports whether serial (0: none) or the key fingerprint
	// ("" : none) is revoked.
	CertRevoked(ctx context.Context, serial uint64, fingerprint string) (bool, error)
}
