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
// the store's. It returns the identity sessions are tracked under, so that
// revoking the token drops them, and the token.
func Live(ctx context.Context, tr acl.TokenReader, c Claims, now time.Time) (acl.Identity, acl.Token, error) {
	tok, err := tr.TokenByHash(ctx, c.TokenHash)
	if errors.Is(err, acl.ErrNotFound) {
		return acl.Identity{}, acl.Token{}, acl.ErrBadToken
	}
	if err != nil {
		return acl.Identity{}, acl.Token{}, fmt.Errorf("look up token: %w", err)
	}
	if tok.User != c.User || (!tok.ExpiresAt.IsZero() && !now.Before(tok.ExpiresAt)) {
		return acl.Identity{}, acl.Token{}, acl.ErrBadToken
	}
	u, err := tr.GetUser(ctx, tok.User)
	if errors.Is(err, acl.ErrNotFound) {
		return acl.Identity{}, acl.Token{}, acl.ErrBadToken
	}
	if err != nil {
		return acl.Identity{}, acl.Token{}, fmt.Errorf("look up user: %w", err)
	}
	if u.Suspended {
		return acl.Identity{}, acl.Token{}, acl.ErrBadToken
	}
	return acl.Identity{User: u.Name, TokenID: tok.ID}, tok, nil
}
