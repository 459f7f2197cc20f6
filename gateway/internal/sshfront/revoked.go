package sshfront

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
)

// Revocations says whether a credential was revoked: a certificate by its
// serial or key, a key by its fingerprint (Config.Revocations).
type Revocations interface {
	Revoked(ctx context.Context, id acl.Identity) (bool, error)
}

// errRevoked refuses a revoked certificate or key.
var errRevoked = errors.New("credential revoked")

// checkRevoked refuses perms' identity when its credential is revoked, or
// when that cannot be told: a revoked certificate must not work because
// the store is slow.
func (a *authenticator) checkRevoked(perms *ssh.Permissions) (*ssh.Permissions, error) {
	if a.revocations == nil {
		return perms, nil
	}
	id, err := parseIdentity(perms)
	if err != nil {
		return nil, err
	}
	revoked, err := a.revocations.Revoked(a.ctx, id.Identity)
	switch {
	case err != nil:
		a.log.Warn("ssh auth refused: cannot check certificate revocations", "user", id.User, "fingerprint", id.KeyFingerprint, "err", err)
		return nil, fmt.Errorf("check revocations: %w", err)
	case revoked:
		attrs := []any{"user", id.User, "fingerprint", id.KeyFingerprint}
		if id.Cert {
			attrs = append(attrs, "cert_serial", id.CertSerial, "cert_key_id", id.CertKeyID)
		}
		a.log.Info("ssh auth refused: credential revoked", attrs...)
		return nil, errRevoked
	}
	return perms, nil
}
