package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// Secret implements acl.Store. The bytes come from here (a script cannot
// draw random numbers of its own); the script keeps the first ones set.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	if err := storekit.CheckSecretName(name); err != nil {
		return nil, err
	}
	fresh := make([]byte, storekit.SecretLen)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("redisstore: secret: %w", err)
	}
	res, err := s.run(ctx, "secret", s.newOp(name, string(fresh)))
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, errReply("secret", res)
	}
	v, ok := res[0].(string)
	if !ok || len(v) != storekit.SecretLen {
		return nil, errReply("secret", res)
	}
	return []byte(v), nil
}
