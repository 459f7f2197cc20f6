package filestore

import (
	"bytes"
	"context"
	"crypto/rand"

	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// Secret implements acl.Store: get or create in one write transaction, so
// two callers racing on a new name get the same bytes.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	if err := storekit.CheckSecretName(name); err != nil {
		return nil, err
	}
	var out []byte
	err := s.update(ctx, func(w *wtx) error {
		b := w.Bucket(bSecrets)
		if v := b.Get([]byte(name)); v != nil {
			out = bytes.Clone(v)
			return nil
		}
		out = make([]byte, storekit.SecretLen)
		if _, err := rand.Read(out); err != nil {
			return err
		}
		return b.Put([]byte(name), out)
	})
	return out, err
}
