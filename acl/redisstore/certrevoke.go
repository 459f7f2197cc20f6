package redisstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// Revocations live at revoked-cert:<RevocationKey> (JSON), listed in the
// set revoked-certs.

// RevokeCert implements acl.Store.
func (s *Store) RevokeCert(ctx context.Context, r acl.RevokedCert) error {
	if err := r.Validate(); err != nil {
		return err
	}
	serial := ""
	if r.Serial != 0 {
		serial = strconv.FormatUint(r.Serial, 10)
	}
	rec := acl.RevokedCert{Serial: r.Serial, Fingerprint: r.Fingerprint, Comment: r.Comment}
	return s.write(ctx, "revoke_cert", r.RevocationKey(), mustJSON(rec), serial, r.Fingerprint)
}

// ListRevokedCerts implements acl.Store.
func (s *Store) ListRevokedCerts(ctx context.Context) ([]acl.RevokedCert, error) {
	res, err := s.run(ctx, "list_json", s.newOp("revoked-certs", "revoked-cert"))
	if err != nil {
		return nil, err
	}
	var out []acl.RevokedCert
	for _, raw := range strs(res) {
		var r acl.RevokedCert
		if err := decode(raw, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	storekit.SortRevokedCerts(out)
	return out, nil
}

// CertRevoked implements acl.Store: one round trip.
func (s *Store) CertRevoked(ctx context.Context, serial uint64, fingerprint string) (bool, error) {
	keys := storekit.CertRevocationKeys(serial, fingerprint)
	if len(keys) == 0 {
		return false, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = s.cfg.Prefix + "revoked-cert:" + k
	}
	n, err := s.rdb.Exists(ctx, full...).Result()
	if err != nil {
		return false, fmt.Errorf("redisstore: cert revoked: %w", err)
	}
	return n > 0, nil
}
