package httpapi

import (
	"net/http"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// maxTokenNameLen bounds a token's free-text name.
const maxTokenNameLen = 64

func (a *api) createToken(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	user := userParam(r, caller, "user")
	if err := requireSelfOrSiteAdmin(caller, user, "manage the tokens"); err != nil {
		return err
	}
	var req apitypes.CreateTokenRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	var vs []apitypes.Validation
	if req.Name == "" || len(req.Name) > maxTokenNameLen {
		vs = append(vs, apitypes.Validation{Field: "name", Detail: "token name must be 1 to 64 characters"})
	}
	var expires time.Time
	if req.ExpiresAt != "" {
		t, v := a.parseFuture("expires_at", req.ExpiresAt)
		if v != nil {
			vs = append(vs, *v)
		}
		expires = t
	}
	if len(vs) == 0 {
		var v *apitypes.Validation
		if expires, v = a.tokenExpiry(expires); v != nil {
			vs = append(vs, *v)
		}
	}
	if len(vs) > 0 {
		return invalid(vs...)
	}
	secret := acl.NewSecret(acl.APITokenPrefix)
	tok := acl.Token{
		ID:        acl.NewID(),
		User:      user,
		Name:      req.Name,
		Hash:      acl.HashToken(secret),
		CreatedAt: a.now(),
		ExpiresAt: expires,
	}
	if err := a.store.CreateToken(r.Context(), tok); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apitypes.CreateTokenResponse{Token: tok, Secret: secret})
	return nil
}

func (a *api) listTokens(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	user := userParam(r, caller, "user")
	if err := requireSelfOrSiteAdmin(caller, user, "manage the tokens"); err != nil {
		return err
	}
	toks, err := a.store.ListTokens(r.Context(), user)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nonNil(toks))
	return nil
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	user := userParam(r, caller, "user")
	if err := requireSelfOrSiteAdmin(caller, user, "manage the tokens"); err != nil {
		return err
	}
	if err := a.store.RevokeToken(r.Context(), user, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseFuture parses an RFC 3339 time that must lie in the future.
func (a *api) parseFuture(field, s string) (time.Time, *apitypes.Validation) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, &apitypes.Validation{Field: field, Detail: field + " must be an RFC 3339 time, like 2030-01-02T15:04:05Z"}
	}
	if !t.After(a.now()) {
		return time.Time{}, &apitypes.Validation{Field: field, Detail: field + " must be in the future"}
	}
	return t.UTC(), nil
}
