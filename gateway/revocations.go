package gateway

import (
	"context"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/revokedkeys"
)

// revokedKeysInterval is how often the revoked-keys file is checked for a
// change.
const revokedKeysInterval = 2 * time.Second

// revocations is what the SSH front door asks at authentication: the
// store's revoked certificates and keys (wsgate certs revoke), then the
// revoked-keys file, when one is configured.
type revocations struct {
	store acl.CertRevocations
	// access, when set, reads the store through its cache (the grace of a
	// store outage applies as to key lookups).
	access *access.Authorizer
	file   *revokedkeys.File // nil: none
}

func (r revocations) Revoked(ctx context.Context, id acl.Identity) (bool, error) {
	if r.file != nil && r.file.Revoked(id) {
		return true, nil
	}
	var serial uint64
	if id.Cert {
		serial = id.CertSerial
	}
	if r.access != nil {
		return r.access.Lookups(nil).CertRevoked(ctx, r.store, serial, id.KeyFingerprint)
	}
	return r.store.CertRevoked(ctx, serial, id.KeyFingerprint)
}

// watchRevokedKeys reloads the revoked-keys file when it changes and drops
// the live sessions it now revokes.
func (s *Server) watchRevokedKeys(ctx context.Context) {
	s.revokedKeys.Watch(ctx, revokedKeysInterval, func() {
		if n := s.revoker.DropRevokedKeys(s.revokedKeys.Revoked); n > 0 {
			s.cfg.Logger.Info("sessions dropped: their key is in the revoked keys file", "count", n)
		}
	})
}
