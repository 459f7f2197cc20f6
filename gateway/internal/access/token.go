package access

import (
	"context"
	"errors"
	"fmt"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// ErrBadToken is every reason an API token is refused: missing, unknown or
// expired, or its user suspended or deleted. Callers answer all alike.
var ErrBadToken = errors.New("unauthorized: missing, invalid or expired API token")

// IdentifyToken resolves an "Authorization: Bearer <token>" value to the
// token's active user, through the cached lookups so that during a store
// outage a token seen recently still works for the grace, as keys do.
func (a *Authorizer) IdentifyToken(ctx context.Context, authorization string) (acl.Identity, error) {
	secret, ok := upgrade.BearerToken(authorization)
	if !ok {
		return acl.Identity{}, ErrBadToken
	}
	l := a.Lookups(nil)
	tok, err := l.TokenByHash(ctx, acl.HashToken(secret))
	if errors.Is(err, acl.ErrNotFound) {
		return acl.Identity{}, ErrBadToken
	}
	if err != nil {
		return acl.Identity{}, fmt.Errorf("look up token: %w", err)
	}
	if !tok.ExpiresAt.IsZero() && !a.cfg.Now().Before(tok.ExpiresAt) {
		return acl.Identity{}, ErrBadToken
	}
	u, err := l.GetUser(ctx, tok.User)
	if errors.Is(err, acl.ErrNotFound) {
		return acl.Identity{}, ErrBadToken
	}
	if err != nil {
		return acl.Identity{}, fmt.Errorf("look up user of token: %w", err)
	}
	if u.Suspended {
		return acl.Identity{}, ErrBadToken
	}
	return acl.Identity{User: u.Name, TokenID: tok.ID}, nil
}
