package websession

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// Live checks that the token c rests on still holds: it exists (not
// revoked), has not expired, belongs to c.User, and that user is neither
// deleted nor suspended. Any of those is acl.ErrBadToken; other errors are
// the store's. Live sessions made from it are tracked under
// Identity(u, tok), so that revoking the token drops them.
func Live(ctx context.Context, tr acl.TokenReader, c Claims, now time.Time) (acl.User, acl.Token, error) {
	tok, err := tr.TokenByHash(ctx, c.TokenHash)
	if errors.Is(err, acl.ErrNotFound) {
		return acl.User{}, acl.Token{}, acl.ErrBadToken
	}
	if err != nil {
		return acl.User{}, acl.Token{}, fmt.Errorf("look up token: %w", err)
	}
	if tok.User != c.User || (!tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt)) {
		return acl.User{}, acl.Token{}, acl.ErrBadToken
	}
	u, err := tr.GetUser(ctx, tok.User)
	if errors.Is(err, acl.ErrNotFound) {
		return acl.User{}, acl.Token{}, acl.ErrBadToken
	}
	if err != nil {
		return acl.User{}, acl.Token{}, fmt.Errorf("look up user: %w", err)
	}
	if u.Suspended {
		return acl.User{}, acl.Token{}, acl.ErrBadToken
	}
	return u, tok, nil
}

// Identity is who a session resting on tok is, as the session registry
// indexes it (by user and by token).
func Identity(u acl.User, tok acl.Token) acl.Identity {
	return acl.Identity{User: u.Name, TokenID: tok.ID}
}
