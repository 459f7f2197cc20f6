package apps

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/internal/access"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/websession"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// gatewayCookies are the gateway's cookies, in both spellings: the app
// never sees them and may not set them.
var gatewayCookies = func() []string {
	var out []string
	for _, base := range []string{websession.SessionCookie, websession.TicketCookie, websession.StateCookie} {
		out = append(out, base, websession.CookieName(base, true))
	}
	return out
}()

// authenticate finds who r is: by bearer token (curl, scripts; the only way
// for path-form apps, which share the gateway's origin), or by the app
// host's ticket cookie, for requests that pass fetchVerdict. A browser
// navigating without a ticket is sent to sign in. ok false: answered.
func (a *Proxy) authenticate(w http.ResponseWriter, r *http.Request, t appTarget) (acl.Identity, bool) {
	if h := r.Header.Get("Authorization"); h != "" || t.prefix != "" {
		secret, _ := upgrade.BearerToken(h)
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
		id, err := a.cfg.Access.IdentifyToken(ctx, secret)
		cancel()
		switch {
		case errors.Is(err, access.ErrBadToken):
			w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
			msg := msgAppAuth
			if t.prefix != "" {
				msg = msgPathAppAuth
			}
			appError(w, http.StatusUnauthorized, msg)
			return acl.Identity{}, false
		case err != nil:
			a.log.Error("app: token lookup failed", "remote", r.RemoteAddr, "err", err)
			appError(w, http.StatusServiceUnavailable, msgUnavailable)
			return acl.Identity{}, false
		}
		return id, true
	}
	host := strings.ToLower(r.Host)
	id, err := a.ticket(r, host)
	switch {
	case errors.Is(err, errNoTicket):
		if isNavigation(r) && a.cfg.SignInURL != "" {
			a.startSignIn(w, r)
			return acl.Identity{}, false
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="wsgate"`)
		msg := msgAppAuth
		if r.Header.Get("Sec-Fetch-Mode") == "" && edge.Scheme(r) == "http" && strings.Contains(r.Header.Get("Accept"), "text/html") {
			// Browsers send Fetch Metadata to secure origins only.
			msg = msgAppNeedsTLS
		}
		appError(w, http.StatusUnauthorized, msg)
		return acl.Identity{}, false
	case err != nil:
		a.log.Error("app: ticket check failed", "remote", r.RemoteAddr, "err", err)
		appError(w, http.StatusServiceUnavailable, msgUnavailable)
		return acl.Identity{}, false
	}
	own := edge.Scheme(r) + "://" + host
	if ok, why := fetchVerdict(r, own, func(o string) bool { return a.allowsOrigin(r.Context(), t, o) }); !ok {
		a.cfg.Access.Count(access.Denied)
		a.log.Info("app: cross-site request refused", "user", id.User, "host", host, "method", r.Method, "path", r.URL.Path,
			"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "sec_fetch_mode", r.Header.Get("Sec-Fetch-Mode"),
			"sec_fetch_dest", r.Header.Get("Sec-Fetch-Dest"), "origin", r.Header.Get("Origin"), "reason", why)
		appError(w, http.StatusForbidden, msgCrossSite+" ("+why+")")
		return acl.Identity{}, false
	}
	return id, true
}

// allowsOrigin reports whether the workspace's owner allowed origin
// (app-allowed-origins); a workspace that cannot be read allows nothing.
func (a *Proxy) allowsOrigin(ctx context.Context, t appTarget, origin string) bool {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	w, err := a.cfg.Access.Lookups(nil).GetWorkspace(ctx, t.ws)
	return err == nil && w.Settings.AllowsAppOrigin(origin)
}
