package apitypes

import "github.com/wsgate/wsgate/acl"

// RevokedCertsPath lists (GET) and adds (POST) revoked SSH certificates
// and keys; site admins only.
const RevokedCertsPath = "/api/v1/certs/revoked"

// RevokedCert is one revocation.
type RevokedCert = acl.RevokedCert

// RevokeCertRequest is the body of POST RevokedCertsPath: exactly one of
// Serial (decimal, as serials use all 64 bits), Key (an authorized_keys
// line: a public key, or a certificate, whose key is revoked) or
// Fingerprint (SHA256:...).
type RevokeCertRequest struct {
	Serial      string `json:"serial,omitempty"`
	Key         string `json:"key,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Comment     string `json:"comment,omitempty"`
}
