package apps

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// Paths of the app session cookie. They take the API token in the
// Authorization header only, never in a URL, where it would leak into
// logs and browser history.
const (
	LoginPath  = "/api/v1/apps/login"
	LogoutPath = "/api/v1/apps/logout"
)

// LoginHandler serves POST LoginPath: with "Authorization: Bearer
// <API token>" it answers 204 and sets the SessionCookie to the token
// (HttpOnly, SameSite=Lax, Secure when the browser came over https,
// directly or through a trusted proxy, Path=/). Sent to a host under
// the apps domain, the cookie is set for the whole apps domain, so that
// every app subdomain receives it. The gateway checks the token on every
// request and strips the cookie before the app sees it; revoking the
// token ends its app sessions like its SSH ones.
func (a *Proxy) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, _ := upgrade.BearerToken(r.Header.Get("Authorization"))
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
		id, err := a.cfg.Access.IdentifyToken(ctx, secret)
		cancel()
		switch {
		case errors.Is(err, access.ErrBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
			apitypes.WriteError(w, http.StatusUnauthorized, access.ErrBadToken.Error())
			return
		case err != nil:
			a.log.Error("app login: token lookup failed", "remote", r.RemoteAddr, "err", err)
			apitypes.WriteError(w, http.StatusServiceUnavailable, "cannot check the API token right now; try again later")
			return
		}
		c := a.cookie(r, secret)
		if exp := a.tokenExpiry(r.Context(), secret); !exp.IsZero() {
			c.Expires = exp
		}
		http.SetCookie(w, c)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		a.log.Info("app login", "user", id.User, "token_id", id.TokenID, "remote", r.RemoteAddr)
	})
}

// LogoutHandler serves POST LogoutPath: it clears the cookie.
func (a *Proxy) LogoutHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := a.cookie(r, "")
		c.MaxAge = -1
		http.SetCookie(w, c)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

func (a *Proxy) cookie(r *http.Request, value string) *http.Cookie {
	c := &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: edge.Secure(r),
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
func (a *Proxy) tokenExpiry(ctx context.Context, secret string) time.Time {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	tok, err := a.cfg.Access.Lookups(nil).TokenByHash(ctx, acl.HashToken(secret))
	if err != nil {
		return time.Time{}
	}
	return tok.ExpiresAt
}
