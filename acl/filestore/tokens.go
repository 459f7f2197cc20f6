package filestore

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// CreateToken implements acl.Store. The ID must be unique for the user and
// the hash unique in the store.
func (s *Store) CreateToken(ctx context.Context, t acl.Token) error {
	if err := storekit.CheckNewToken(t); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		if w.Bucket(bUsers).Get([]byte(t.User)) == nil {
			return acl.NotFound("user", t.User)
		}
		uk := []byte(join(t.User, t.ID))
		if w.Bucket(bUserTokens).Get(uk) != nil {
			return acl.Conflict("token", t.ID)
		}
		if w.Bucket(bTokens).Get([]byte(t.Hash)) != nil {
			return &acl.ConflictError{Kind: "token", Name: t.ID, Detail: "token hash is already in use"}
		}
		if t.CreatedAt.IsZero() {
			t.CreatedAt = w.now
		}
		if err := putJSON(w.Bucket(bTokens), t.Hash, storekit.ToTokenRecord(t)); err != nil {
			return err
		}
		return w.Bucket(bUserTokens).Put(uk, []byte(t.Hash))
	})
}

// TokenByHash implements acl.Store. An expired token is not found.
func (s *Store) TokenByHash(ctx context.Context, hash string) (acl.Token, error) {
	now := s.cfg.Now()
	var t acl.Token
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var r storekit.TokenRecord
		ok, err := getJSON(tx.Bucket(bTokens), hash, &r)
		if err != nil {
			return err
		}
		if !ok || hash == "" || storekit.Expired(r.ExpiresAt, now) {
			return acl.NotFound("token", storekit.ShortHash(hash))
		}
		t = r.Token()
		return nil
	})
	return t, err
}

// ListTokens implements acl.Store: every token of the user, expired ones
// included, oldest first.
func (s *Store) ListTokens(ctx context.Context, user string) ([]acl.Token, error) {
	if err := storekit.LookupName("user", user); err != nil {
		return nil, err
	}
	var out []acl.Token
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bUsers).Get([]byte(user)) == nil {
			return acl.NotFound("user", user)
		}
		prefix := user + "\x00"
		for _, id := range keysWithPrefix(tx.Bucket(bUserTokens), prefix) {
			hash := tx.Bucket(bUserTokens).Get([]byte(prefix + id))
			var r storekit.TokenRecord
			ok, err := getJSON(tx.Bucket(bTokens), string(hash), &r)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, r.Token())
			}
		}
		return nil
	})
	storekit.SortTokens(out)
	return out, err
}

// RevokeToken implements acl.Store.
func (s *Store) RevokeToken(ctx context.Context, user, id string) error {
	if err := storekit.LookupName("user", user); err != nil {
		return err
	}
	return s.update(ctx, func(w *wtx) error {
		if w.Bucket(bUsers).Get([]byte(user)) == nil {
			return acl.NotFound("user", user)
		}
		uk := []byte(join(user, id))
		hash := w.Bucket(bUserTokens).Get(uk)
		if hash == nil {
			return acl.NotFound("token", id)
		}
		if err := w.Bucket(bTokens).Delete(hash); err != nil {
			return err
		}
		if err := w.Bucket(bUserTokens).Delete(uk); err != nil {
			return err
		}
		w.emit(acl.Event{Kind: acl.EventTokenRevoked, User: user, TokenID: id})
		return nil
	})
}
