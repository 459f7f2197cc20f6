package filestore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// bRevokedCerts holds acl.RevokedCert by RevocationKey. It is made on the
// first revocation, so that stores written before it need no migration.
var bRevokedCerts = []byte("revoked_certs")

// RevokeCert implements acl.Store.
func (s *Store) RevokeCert(ctx context.Context, r acl.RevokedCert) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		b, err := w.CreateBucketIfNotExists(bRevokedCerts)
		if err != nil {
			return err
		}
		key := r.RevocationKey()
		if b.Get([]byte(key)) != nil {
			return &acl.ConflictError{Kind: "revocation", Name: key, Detail: "is already revoked"}
		}
		r.RevokedAt, r.RevokedBy = w.now, w.actor
		if err := putJSON(b, key, r); err != nil {
			return err
		}
		w.emit(acl.Event{Kind: acl.EventCertRevoked, CertSerial: r.Serial, Fingerprint: r.Fingerprint})
		return nil
	})
}

// ListRevokedCerts implements acl.Store.
func (s *Store) ListRevokedCerts(ctx context.Context) ([]acl.RevokedCert, error) {
	var out []acl.RevokedCert
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bRevokedCerts)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			var r acl.RevokedCert
			if _, err := getJSON(b, string(k), &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	storekit.SortRevokedCerts(out)
	return out, err
}

// CertRevoked implements acl.Store.
func (s *Store) CertRevoked(ctx context.Context, serial uint64, fingerprint string) (bool, error) {
	found := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bRevokedCerts)
		if b == nil {
			return nil
		}
		for _, k := range storekit.CertRevocationKeys(serial, fingerprint) {
			if b.Get([]byte(k)) != nil {
				found = true
			}
		}
		return nil
	})
	return found, err
}
