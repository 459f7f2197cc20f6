package access

import (
	"context"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// ErrBadToken is every reason an API token is refused: missing, unknown or
// expired, or its user suspended or deleted. Callers answer all alike.
var ErrBadToken = acl.ErrBadToken

// IdentifyToken resolves an "Authorization: Bearer <token>" value to the
// token's active user, through the cached lookups so that during a store
// outage a token seen recently still works for the grace, as keys do.
func (a *Authorizer) IdentifyToken(ctx context.Context, authorization string) (acl.Identity, error) {
	secret, ok := upgrade.BearerToken(authorization)
	if !ok {
		return acl.Identity{}, ErrBadToken
	}
	u, tok, err := acl.IdentifyToken(ctx, a.Lookups(nil), secret, a.cfg.Now())
	if err != nil {
		return acl.Identity{}, err
	}
	return acl.Identity{User: u.Name, TokenID: tok.ID}, nil
}
