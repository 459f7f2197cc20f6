package revoke

import (
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/sessions"
)

// Revocation reasons for credentials (labels of wsgate_revocations_total).
const (
	reasonCredentialExpired = "credential_expired"
	reasonCertRevoked       = "cert_revoked"
)

// dropExpiredCredentials drops the sessions whose API token or SSH
// certificate expired by now: a session never outlives the credential it
// was opened with. The sweeper calls it at each such expiry.
func (r *Revoker) dropExpiredCredentials(now time.Time) {
	for _, ls := range r.reg.CredentialExpired(now) {
		r.dropAsync(ls, reasonCredentialExpired, sessions.CredentialExpiredMessage(ls.Info), ls.Info.Expires)
	}
}

// certRevoked drops the sessions made with a certificate that was revoked:
// by serial, or by key (then also sessions made with that key itself).
func (r *Revoker) certRevoked(ev acl.Event) {
	for _, ls := range r.reg.All() {
		if CertMatches(ls.Info.Identity, ev.CertSerial, ev.Fingerprint) {
			r.dropAsync(ls, reasonCertRevoked, revokedMessage(ls.Info.Identity), ev.At)
		}
	}
}

// DropRevokedKeys drops the live sessions whose credential revoked names
// (a revoked-keys file that changed). It returns how many it dropped.
func (r *Revoker) DropRevokedKeys(revoked func(acl.Identity) bool) int {
	n := 0
	for _, ls := range r.reg.All() {
		if !ls.Dropping() && revoked(ls.Info.Identity) {
			r.dropAsync(ls, reasonCertRevoked, revokedMessage(ls.Info.Identity), r.now())
			n++
		}
	}
	return n
}

// CertMatches reports whether id was made with the revoked certificate
// serial (non-zero) or key fingerprint.
func CertMatches(id acl.Identity, serial uint64, fingerprint string) bool {
	if serial != 0 && id.Cert && id.CertSerial == serial {
		return true
	}
	return fingerprint != "" && id.KeyFingerprint == fingerprint
}

func revokedMessage(id acl.Identity) string {
	if id.Cert {
		return "your SSH certificate was revoked"
	}
	return "your SSH key was revoked"
}
