package access

import (
	"context"

	"github.com/wsgate/wsgate/acl"
)

// ErrBadToken is every reason an API token is refused: missing, unknown or
// expired, or its user suspended or deleted. Callers answer all alike.
var ErrBadToken = acl.ErrBadToken

// IdentifyToken resolves an API token's secret to the token's active user,
// through the cached lookups so that during a store outage a token seen
// recently still works for the grace, as keys do.
func (a *Authorizer) IdentifyToken(ctx context.Context, secret string) (acl.Identity, error) {
	u, tok, err := acl.IdentifyToken(ctx, a.Lookups(nil), secret, a.cfg.Now())
	if err != nil {
		return acl.Identity{}, err
	}
	return acl.Identity{User: u.Name, TokenID: tok.ID, Expires: tok.ExpiresAt}, nil
}
