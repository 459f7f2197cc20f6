package redisstore

import (
	"context"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/internal/storekit"
)

// CreateToken implements acl.Store. The ID must be unique for the user and
// the hash unique in the store.
func (s *Store) CreateToken(ctx context.Context, t acl.Token) error {
	if err := storekit.CheckNewToken(t); err != nil {
		return err
	}
	o := s.newOp()
	if t.CreatedAt.IsZero() {
		t.CreatedAt = o.now
	}
	o.args = append(o.args, t.User, t.ID, t.Hash, mustJSON(storekit.ToTokenRecord(t)))
	_, err := s.run(ctx, "create_token", o)
	return err
}

// TokenByHash implements acl.Store. An expired token is not found.
func (s *Store) TokenByHash(ctx context.Context, hash string) (acl.Token, error) {
	now := s.cfg.Now()
	var r storekit.TokenRecord
	ok := false
	if hash != "" {
		var err error
		if ok, err = s.getJSON(ctx, "token:"+hash, &r); err != nil {
			return acl.Token{}, err
		}
	}
	if !ok || storekit.Expired(r.ExpiresAt, now) {
		return acl.Token{}, acl.NotFound("token", storekit.ShortHash(hash))
	}
	return r.Token(), nil
}

// ListTokens implements acl.Store: every token of the user, expired ones
// included, oldest first.
func (s *Store) ListTokens(ctx context.Context, user string) ([]acl.Token, error) {
	if err := storekit.LookupName("user", user); err != nil {
		return nil, err
	}
	res, err := s.run(ctx, "list_tokens", s.newOp(user))
	if err != nil {
		return nil, err
	}
	var out []acl.Token
	for _, raw := range strs(res) {
		var r storekit.TokenRecord
		if err := decode(raw, &r); err != nil {
			return nil, err
		}
		out = append(out, r.Token())
	}
	storekit.SortTokens(out)
	return out, nil
}

// RevokeToken implements acl.Store.
func (s *Store) RevokeToken(ctx context.Context, user, id string) error {
	if err := storekit.LookupName("user", user); err != nil {
		return err
	}
	return s.write(ctx, "revoke_token", user, id)
}
