package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/wsgate/wsgate/gateway/httpapi"
)

// Paths of the app session cookie. They take the API token in the
// Authorization header only, never in a URL, where it would leak into
// logs and browser history.
const (
	AppLoginPath  = "/api/v1/apps/login"
	AppLogoutPath = "/api/v1/apps/logout"
)

// LoginHandler serves POST AppLoginPath: with "Authorization: Bearer
// <API token>" it answers 204 and sets the AppSessionCookie to the token
// (HttpOnly, SameSite=Lax, Secure over TLS, Path=/). Sent to a host under
// the apps domain, the cookie is set for the whole apps domain, so that
// every app subdomain receives it. The gateway checks the token on every
// request and strips the cookie before the app sees it; revoking the
// token ends its app sessions like its SSH ones.
func (a *AppProxy) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		ctx, cancel := context.WithTimeout(r.Context(), a.ssh.cfg.HandshakeTimeout)
		id, err := a.ssh.tokenIdentity(ctx, authz)
		cancel()
		switch {
		case errors.Is(err, errBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
			writeAPIError(w, http.StatusUnauthorized, errBadToken.Error())
			return
		case err != nil:
			a.log.Error("app login: token lookup failed", "remote", r.RemoteAddr, "err", err)
			writeAPIError(w, http.StatusServiceUnavailable, "cannot check the API token right now; try again later")
			return
		}
		// tokenIdentity accepted the header, so it holds a bearer token.
		secret, _ := httpapi.BearerToken(authz)
		c := a.cookie(r, secret)
		if exp := a.tokenExpiry(r.Context(), id); !exp.IsZero() {
			c.Expires = exp
		}
		http.SetCookie(w, c)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		a.log.Info("app login", "user", id.User, "token_id", id.TokenID, "remote", r.RemoteAddr)
	})
}

// LogoutHandler serves POST AppLogoutPath: it clears the cookie.
func (a *AppProxy) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := a.cookie(r, "")
		c.MaxAge = -1
		http.SetCookie(w, c)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

func (a *AppProxy) cookie(r *http.Request, value string) *http.Cookie {
	c := &http.Cookie{
		Name: AppSessionCookie, Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	}
	if d := a.cfg.Domain; d != "" {
		if h := requestHost(r.Host); h == d || strings.HasSuffix(h, "."+d) {
			c.Domain = d
		}
	}
	return c
}

// tokenExpiry is when the token behind id expires, zero for never or when
// it cannot be read (the cookie then lasts for the browser session).
func (a *AppProxy) tokenExpiry(ctx context.Context, id Identity) time.Time {
	ctx, cancel := context.WithTimeout(ctx, a.ssh.cfg.HandshakeTimeout)
	defer cancel()
	toks, err := a.ssh.cfg.Store.ListTokens(ctx, id.User)
	if err != nil {
		return time.Time{}
	}
	for _, t := range toks {
		if t.ID == id.TokenID {
			return t.ExpiresAt
		}
	}
	return time.Time{}
}
