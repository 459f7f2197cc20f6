package apps

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/websession"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// App sign-in (subdomain form only). A browser without a ticket for an app
// host is sent, with a state cookie set on that host, to the gateway's
// sign-in page; the page, signed in on the gateway's origin, asks
// AppCodePath for a one-time code bound to the user, the app host and the
// state, and sends the browser to CallbackPath on the app host, which
// trades the code for a ticket cookie of that host alone. No cookie ever
// holds an API token, and no cookie is shared by two app hosts.

// CallbackPath is reserved on every app host: the gateway answers it, the
// app never sees it.
const CallbackPath = "/.wsgate/callback"

// maxReturnLen bounds the path the sign-in returns to.
const maxReturnLen = 2048

var b64 = base64.RawURLEncoding

var errNoTicket = errors.New("no valid ticket")

// ticket authenticates r by a ticket cookie for host.
func (a *Proxy) ticket(r *http.Request, host string) (acl.Identity, error) {
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
	defer cancel()
	for _, v := range websession.CookieValues(r, websession.TicketCookie, edge.Secure(r)) {
		c, err := a.cfg.Web.Verify(ctx, v, websession.KindTicket)
		if errors.Is(err, websession.ErrInvalid) || errors.Is(err, websession.ErrExpired) {
			continue
		}
		if err != nil {
			return acl.Identity{}, err
		}
		if c.Host != host {
			continue
		}
		u, tok, err := websession.Live(ctx, a.cfg.Access.Lookups(nil), c, a.cfg.Web.Now())
		if errors.Is(err, acl.ErrBadToken) {
			continue
		}
		if err != nil {
			return acl.Identity{}, err
		}
		return websession.Identity(u, tok), nil
	}
	return acl.Identity{}, errNoTicket
}

// isNavigation: a top-level GET the browser shows as a page, which may be
// redirected to the sign-in.
func isNavigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.Header.Get("Sec-Fetch-Mode") == "navigate" && r.Header.Get("Sec-Fetch-Dest") == "document"
}

// startSignIn sets the state cookie on the app host and sends the browser
// to the gateway's sign-in page.
func (a *Proxy) startSignIn(w http.ResponseWriter, r *http.Request) {
	var raw [18]byte
	_, _ = rand.Read(raw[:]) // never fails on supported platforms (Go 1.24+)
	state := b64.EncodeToString(raw[:])
	ret := r.URL.RequestURI()
	if !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") || len(ret) > maxReturnLen {
		ret = "/"
	}
	// Lax: the cookie must come back on the top-level navigation from the
	// gateway's page to CallbackPath.
	http.SetCookie(w, websession.NewCookie(websession.StateCookie, state+"."+b64.EncodeToString([]byte(ret)),
		edge.Secure(r), http.SameSiteLaxMode, a.cfg.Web.Now().Add(websession.StateTTL)))
	q := url.Values{"app": {r.Host}, "state": {state}}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, strings.TrimSuffix(a.cfg.SignInURL, "/")+apitypes.SignInPage+"?"+q.Encode(), http.StatusSeeOther)
}

// callback serves CallbackPath on an app host: a one-time code made for
// this host and this browser's state becomes the host's ticket.
func (a *Proxy) callback(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
	defer cancel()
	refuse := func(status int, msg, why string) {
		a.log.Info("app sign-in refused", "host", host, "remote", r.RemoteAddr, "reason", why)
		appError(w, status, msg)
	}
	c, err := a.cfg.Web.Redeem(ctx, r.URL.Query().Get("code"), websession.KindAppCode)
	switch {
	case errors.Is(err, websession.ErrInvalid), errors.Is(err, websession.ErrExpired), errors.Is(err, websession.ErrUsed):
		refuse(http.StatusForbidden, msgBadCode, err.Error())
		return
	case err != nil:
		a.log.Error("app sign-in: signing key unavailable", "err", err)
		appError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	if c.Host != host {
		refuse(http.StatusForbidden, msgBadCode, "code is for host "+c.Host)
		return
	}
	ret, ok := stateReturn(r, c.State)
	if !ok {
		refuse(http.StatusForbidden, msgBadState, "state does not match")
		return
	}
	u, tok, err := websession.Live(ctx, a.cfg.Access.Lookups(nil), c, a.cfg.Web.Now())
	switch {
	case errors.Is(err, acl.ErrBadToken):
		refuse(http.StatusUnauthorized, msgAppAuth, "token no longer valid")
		return
	case err != nil:
		a.log.Error("app sign-in: token lookup failed", "err", err)
		appError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	ticket, exp, err := a.cfg.Web.Sign(ctx, websession.Claims{Kind: websession.KindTicket, User: u.Name, TokenHash: tok.Hash, Host: host},
		websession.TicketTTL, tok.ExpiresAt)
	if err != nil {
		a.log.Error("app sign-in: signing key unavailable", "err", err)
		appError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	secure := edge.Secure(r)
	// Lax, so that links from elsewhere (the sharing page) open the app
	// signed in; fetchVerdict is what keeps sibling apps out.
	http.SetCookie(w, websession.NewCookie(websession.TicketCookie, ticket, secure, http.SameSiteLaxMode, exp))
	http.SetCookie(w, websession.NewCookie(websession.StateCookie, "", secure, http.SameSiteLaxMode, time.Time{}))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	a.log.Info("app sign-in", "user", u.Name, "token_id", tok.ID, "host", host, "remote", r.RemoteAddr, "expires", exp)
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

// stateReturn finds the state cookie holding state and returns the path
// the sign-in started from.
func stateReturn(r *http.Request, state string) (string, bool) {
	if state == "" {
		return "", false
	}
	for _, v := range websession.CookieValues(r, websession.StateCookie, edge.Secure(r)) {
		s, retB64, _ := strings.Cut(v, ".")
		if subtle.ConstantTimeCompare([]byte(s), []byte(state)) != 1 {
			continue
		}
		ret, err := b64.DecodeString(retB64)
		if err != nil || !strings.HasPrefix(string(ret), "/") || strings.HasPrefix(string(ret), "//") {
			return "/", true
		}
		return string(ret), true
	}
	return "", false
}

// AppCodeHandler serves POST apitypes.AppCodePath on the gateway's origin:
// for the signed-in browser (session cookie with the CSRF header, or a
// bearer token), a one-time code for one app host and state, valid for
// websession.AppCodeTTL, and the app host's callback URL that redeems it.
func (a *Proxy) AppCodeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if a.cfg.Domain == "" {
			apitypes.WriteError(w, http.StatusNotFound, "this gateway serves no apps domain (--apps-domain)")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.Timeout)
		defer cancel()
		var (
			id  acl.Identity
			tok acl.Token
			err error
		)
		if h := r.Header.Get("Authorization"); h != "" {
			secret, _ := upgrade.BearerToken(h)
			var u acl.User
			u, tok, err = acl.IdentifyToken(ctx, a.cfg.Access.Lookups(nil), secret, a.cfg.Web.Now())
			id = websession.Identity(u, tok)
		} else {
			var u acl.User
			_, u, tok, err = a.cfg.Web.FromRequest(r.WithContext(ctx), a.cfg.Access.Lookups(nil), edge.Scheme(r))
			id = websession.Identity(u, tok)
		}
		switch {
		case errors.Is(err, websession.ErrNoSession), errors.Is(err, acl.ErrBadToken):
			apitypes.WriteError(w, http.StatusUnauthorized, "sign in first")
			return
		case errors.Is(err, websession.ErrCSRF):
			apitypes.WriteError(w, http.StatusForbidden, err.Error())
			return
		case err != nil:
			a.log.Error("app code: sign-in check failed", "err", err)
			apitypes.WriteError(w, http.StatusServiceUnavailable, "cannot check the sign-in right now; try again later")
			return
		}
		var req apitypes.AppCodeRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			apitypes.WriteError(w, http.StatusBadRequest, "want a JSON body with host and state")
			return
		}
		host := strings.ToLower(req.Host)
		if !a.isAppHost(host) {
			apitypes.WriteError(w, http.StatusBadRequest, "host "+strconv.Quote(req.Host)+" is not an app under "+a.cfg.Domain)
			return
		}
		if !validState(req.State) {
			apitypes.WriteError(w, http.StatusBadRequest, "invalid state")
			return
		}
		code, _, err := a.cfg.Web.Sign(ctx, websession.Claims{
			Kind: websession.KindAppCode, User: id.User, TokenHash: tok.Hash, Host: host, State: req.State,
		}, websession.AppCodeTTL, tok.ExpiresAt)
		if err != nil {
			a.log.Error("app code: signing key unavailable", "err", err)
			apitypes.WriteError(w, http.StatusServiceUnavailable, "cannot sign in right now; try again later")
			return
		}
		redirect := edge.Scheme(r) + "://" + host + CallbackPath + "?" + url.Values{"code": {code}}.Encode()
		b, _ := json.Marshal(apitypes.AppCodeResponse{Redirect: redirect})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(b, '\n'))
	})
}

// isAppHost: host[:port] names an app under the apps domain, so that the
// code's redirect can go nowhere else.
func (a *Proxy) isAppHost(hostport string) bool {
	h, port := hostport, ""
	if sh, sp, err := net.SplitHostPort(hostport); err == nil {
		h, port = sh, sp
	}
	if port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return false
		}
	}
	_, ok, err := parseAppHost(h, a.cfg.Domain)
	return ok && err == nil
}

func validState(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
