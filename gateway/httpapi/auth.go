package httpapi

import (
	"errors"
	"net/http"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// authenticate resolves the bearer token, or without one the session
// cookie (signin.go), to a user. Missing, unknown and expired tokens and
// suspended or deleted users all get errUnauthorized.
func (a *api) authenticate(r *http.Request) (acl.User, error) {
	if r.Header.Get("Authorization") == "" {
		return a.authenticateSession(r)
	}
	secret, ok := upgrade.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return acl.User{}, errUnauthorized
	}
	u, _, err := acl.IdentifyToken(r.Context(), a.store, secret, a.now())
	if errors.Is(err, acl.ErrSuspended) {
		// The token is valid: its holder may know their account's state.
		return acl.User{}, errSuspended
	}
	if errors.Is(err, acl.ErrBadToken) {
		return acl.User{}, errUnauthorized
	}
	return u, err
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
