package filestore

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// bOnce holds used one-time ids → expiry (unix ms). It is made on first
// use; entries past their expiry are removed by the next write.
var bOnce = []byte("once")

// UseOnce implements acl.OnceStore.
func (s *Store) UseOnce(ctx context.Context, id string, until time.Time) (bool, error) {
	if err := storekit.CheckOnceID(id); err != nil {
		return false, err
	}
	first := false
	err := s.update(ctx, func(w *wtx) error {
		if !until.After(w.now) {
			first = true // a record that expired at once blocks nothing
			return nil
		}
		b, err := w.CreateBucketIfNotExists(bOnce)
		if err != nil {
			return err
		}
		now := w.now.UnixMilli()
		// Codes live a minute at most: the bucket stays small.
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) <= now {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		if b.Get([]byte(id)) != nil {
			return nil
		}
		first = true
		return b.Put([]byte(id), binary.BigEndian.AppendUint64(nil, uint64(until.UnixMilli())))
	})
	return first, err
}
