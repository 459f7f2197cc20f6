package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// BearerToken is upgrade.BearerToken, kept for the gateway's callers until
// they use it directly.
func BearerToken(authz string) (string, bool) { return upgrade.BearerToken(authz) }

// authenticate resolves the bearer token to a user. Missing, unknown and
// expired tokens and suspended or deleted users all get errUnauthorized.
func (a *api) authenticate(r *http.Request) (acl.User, error) {
	secret, ok := upgrade.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return acl.User{}, errUnauthorized
	}
	ctx := r.Context()
	tok, err := a.store.TokenByHash(ctx, acl.HashToken(secret))
	if errors.Is(err, acl.ErrNotFound) {
		return acl.User{}, errUnauthorized
	}
	if err != nil {
		return acl.User{}, fmt.Errorf("look up token: %w", err)
	}
	if !tok.ExpiresAt.IsZero() && !a.now().Before(tok.ExpiresAt) {
		return acl.User{}, errUnauthorized
	}
	u, err := a.store.GetUser(ctx, tok.User)
	if errors.Is(err, acl.ErrNotFound) {
		return acl.User{}, errUnauthorized
	}
	if err != nil {
		return acl.User{}, fmt.Errorf("look up user of token: %w", err)
	}
	if u.Suspended {
		return acl.User{}, errUnauthorized
	}
	return u, nil
}

// userParam reads a user name from the path; "me" is the caller.
func userParam(r *http.Request, caller acl.User, key string) string {
	name := r.PathValue(key)
	if name == "me" {
		return caller.Name
	}
	return name
}

// requireSiteAdmin refuses callers who are not site admins.
func requireSiteAdmin(caller acl.User, what string) error {
	if !caller.SiteAdmin {
		return errorf(http.StatusForbidden, "only site admins may %s", what)
	}
	return nil
}

// requireSelfOrSiteAdmin lets users manage their own things and site admins
// anyone's. The check does not look at the store, so it reveals nothing.
func requireSelfOrSiteAdmin(caller acl.User, user, what string) error {
	if caller.Name != user && !caller.SiteAdmin {
		return errorf(http.StatusForbidden, "only site admins may %s of other users", what)
	}
	return nil
}
