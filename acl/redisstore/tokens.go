package redisstore

import (
	"cmp"
	"context"
	"slices"

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
	o.args = append(o.args, t.User, t.ID, t.Hash, mustJSON(toTokenRecord(t)))
	_, err := s.run(ctx, "create_token", o)
	return err
}

// TokenByHash implements acl.Store. An expired token is not found.
func (s *Store) TokenByHash(ctx context.Context, hash string) (acl.Token, error) {
	now := s.cfg.Now()
	var r tokenRecord
	ok := false
	if hash != "" {
		var err error
		if ok, err = s.getJSON(ctx, "token:"+hash, &r); err != nil {
			return acl.Token{}, err
		}
	}
	if !ok || expired(r.ExpiresAt, now) {
		return acl.Token{}, acl.NotFound("token", shortHash(hash))
	}
	return r.token(), nil
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
		var r tokenRecord
		if err := decode(raw, &r); err != nil {
			return nil, err
		}
		out = append(out, r.token())
	}
	slices.SortFunc(out, func(a, b acl.Token) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// RevokeToken implements acl.Store.
func (s *Store) RevokeToken(ctx context.Context, user, id string) error {
	if err := storekit.LookupName("user", user); err != nil {
		return err
	}
	return s.write(ctx, "revoke_token", user, id)
}
