package redisstore

import (
	"context"
	"time"

	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// UseOnce implements acl.OnceStore: SET NX with a TTL, so the record goes
// away by itself.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	if err := storekit.CheckOnceID(id); err != nil {
		return false, err
	}
	// Relative to this store's clock, like every other expiry here (Redis
	// keeps its own wall clock for PX).
	ttl := until.Sub(s.cfg.Now()).Milliseconds()
	if ttl <= 0 {
		return true, nil // a record that expired at once blocks nothing
	}
	res, err := s.run(ctx, "use_once", s.newOp(id, ttl))
	if err != nil {
		return false, err
	}
	if len(res) != 1 {
		return false, errReply("use_once", res)
	}
	n, ok := res[0].(int64)
	if !ok {
		return false, errReply("use_once", res)
	}
	return n == 1, nil
}
