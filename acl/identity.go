package acl

import "time"

// Identity is who a connection belongs to and the credential it was proved
// with; revocation finds live sessions by each of these.
type Identity struct {
	User string
	// KeyFingerprint is the SHA256 fingerprint of the user's key; for a
	// certificate, of the certified key.
	KeyFingerprint string
	Cert           bool // authenticated with a user certificate
	CertSerial     uint64
	CertKeyID      string
	// TokenID is the API token a connection over HTTPS was opened with
	// (SSH over HTTPS, apps); empty for the SSH front door.
	TokenID string
	// Expires is when the credential itself stops being valid: the API
	// token's expiry, the certificate's ValidBefore; zero for never. A
	// session never outlives it.
	Expires time.Time
}
