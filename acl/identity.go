package acl

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
}
