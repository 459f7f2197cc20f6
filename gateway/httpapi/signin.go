package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/internal/edge"
	"github.com/wsgate/wsgate/gateway/internal/websession"
	"github.com/wsgate/wsgate/internal/upgrade"
)

// Browser sign-in on the gateway's own origin. The session cookie holds a
// signed session (websession), never the API token: HttpOnly,
// SameSite=Strict, "__Host-" and Secure under TLS. Requests it
// authenticates must carry websession.CSRFHeader (and no foreign Origin),
// which no other origin can send without a CORS preflight the gateway never
// grants: that is the API's CSRF protection, for every method.

func (a *api) signinRoutes() {
	a.mux.HandleFunc("POST "+apitypes.SignInPath, a.signIn)
	a.mux.HandleFunc("POST "+apitypes.SignOutPath, a.signOut)
	a.mux.HandleFunc("POST "+apitypes.SignInCodesPath, a.createSignInCode)
}

var errBadSignInCode = errorf(http.StatusUnauthorized,
	"this sign-in link is invalid, expired or already used: run `wsgate web` again, or sign in with an API token")

// sameOriginOnly refuses a request that another origin could have made.
func sameOriginOnly(r *http.Request) error {
	if r.Header.Get(websession.CSRFHeader) == "" {
		return errorf(http.StatusForbidden, "%s", websession.ErrCSRF.Error())
	}
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, edge.Scheme(r)+"://"+r.Host) {
		return errorf(http.StatusForbidden, "%s", websession.ErrCSRF.Error())
	}
	return nil
}

// signIn serves POST SignInPath: with a bearer token or a one-time code
// from SignInCodesPath, it sets the session cookie.
func (a *api) signIn(w http.ResponseWriter, r *http.Request) {
	if err := a.signInErr(w, r); err != nil {
		a.writeError(w, r, err)
	}
}

func (a *api) signInErr(w http.ResponseWriter, r *http.Request) error {
	// A forged sign-in would sign the victim's browser in as the attacker.
	if err := sameOriginOnly(r); err != nil {
		return err
	}
	var (
		u   acl.User
		tok acl.Token
		err error
	)
	if h := r.Header.Get("Authorization"); h != "" {
		secret, _ := upgrade.BearerToken(h)
		u, tok, err = acl.IdentifyToken(r.Context(), a.store, secret, a.now())
	} else {
		var req apitypes.SignInRequest
		if err := decode(w, r, &req); err != nil {
			return err
		}
		c, rerr := a.cfg.Web.Redeem(r.Context(), req.Code, websession.KindWebCode)
		if errors.Is(rerr, websession.ErrInvalid) || errors.Is(rerr, websession.ErrExpired) || errors.Is(rerr, websession.ErrUsed) {
			return errBadSignInCode
		}
		if rerr != nil {
			return rerr
		}
		u, tok, err = websession.Live(r.Context(), a.store, c, a.now())
	}
	if errors.Is(err, acl.ErrBadToken) {
		return errUnauthorized
	}
	if err != nil {
		return err
	}
	v, exp, err := a.cfg.Web.Sign(r.Context(), websession.Claims{Kind: websession.KindSession, User: u.Name, TokenHash: tok.Hash},
		websession.SessionTTL, tok.ExpiresAt)
	if err != nil {
		return err
	}
	http.SetCookie(w, websession.NewCookie(websession.SessionCookie, v, edge.Secure(r), http.SameSiteStrictMode, exp))
	w.Header().Set("Cache-Control", "no-store")
	a.log.InfoContext(r.Context(), "web sign-in", "user", u.Name, "token_id", tok.ID, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, apitypes.SignInResponse{User: u.Name, ExpiresAt: exp})
	return nil
}

// signOut serves POST SignOutPath: the browser forgets the session. The
// session itself is signed, not stored: revoke its token to end it
// everywhere.
func (a *api) signOut(w http.ResponseWriter, r *http.Request) {
	if err := sameOriginOnly(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	http.SetCookie(w, websession.NewCookie(websession.SessionCookie, "", edge.Secure(r), http.SameSiteStrictMode, time.Time{}))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// createSignInCode serves POST SignInCodesPath for `wsgate web`: a bearer
// token (never a session) buys a one-time code, valid for a minute, and the
// link that redeems it. The code sits in the URL's fragment, which the
// browser never sends to a server or in a Referer.
func (a *api) createSignInCode(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		secret, ok := upgrade.BearerToken(r.Header.Get("Authorization"))
		if !ok {
			return errUnauthorized
		}
		u, tok, err := acl.IdentifyToken(r.Context(), a.store, secret, a.now())
		if errors.Is(err, acl.ErrBadToken) {
			return errUnauthorized
		}
		if err != nil {
			return err
		}
		code, exp, err := a.cfg.Web.Sign(r.Context(), websession.Claims{Kind: websession.KindWebCode, User: u.Name, TokenHash: tok.Hash},
			websession.WebCodeTTL, tok.ExpiresAt)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, apitypes.SignInCode{
			Code: code, URL: strings.TrimSuffix(a.cfg.AccessURL, "/") + apitypes.SignInPage + "#code=" + code, ExpiresAt: exp,
		})
		return nil
	}()
	if err != nil {
		a.writeError(w, r, err)
	}
}

// authenticateSession authenticates an API request by its session cookie.
func (a *api) authenticateSession(r *http.Request) (acl.User, error) {
	_, u, _, err := a.cfg.Web.FromRequest(r, a.store, edge.Scheme(r))
	switch {
	case errors.Is(err, websession.ErrNoSession), errors.Is(err, acl.ErrBadToken):
		return acl.User{}, errUnauthorized
	case errors.Is(err, websession.ErrCSRF):
		return acl.User{}, errorf(http.StatusForbidden, "%s", err.Error())
	}
	return u, err
}
