package websession

import (
	"net/http"
	"time"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// Cookie base names. Under TLS each is sent as "__Host-" + name: the
// browser then keeps it host-only, Secure and Path=/, so a sibling host
// (another app) cannot set or overwrite it.
const (
	// SessionCookie holds the signed-in session on the gateway's origin.
	SessionCookie = "wsgate_web"
	// TicketCookie holds an app host's ticket.
	TicketCookie = "wsgate_app"
	// StateCookie holds an app host's sign-in state until the code comes back.
	StateCookie = "wsgate_state"
)

// CSRFHeader must be on every API request that a cookie authenticates (any
// value). Browsers let no other origin set a custom header without a CORS
// preflight, which the gateway never grants.
const CSRFHeader = apitypes.CSRFHeader

// CookieName is base as sent: "__Host-"+base when secure.
func CookieName(base string, secure bool) string {
	if secure {
		return "__Host-" + base
	}
	return base
}

// NewCookie is an HttpOnly, host-only, Path=/ cookie; expires zero deletes it.
func NewCookie(base, value string, secure bool, sameSite http.SameSite, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: CookieName(base, secure), Value: value, Path: "/",
		HttpOnly: true, Secure: secure, SameSite: sameSite,
	}
	if expires.IsZero() {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}

// CookieValues are the values of every cookie named base (as sent under
// secure) in r: a tossed cookie may sit next to the real one, so callers
// try each.
func CookieValues(r *http.Request, base string, secure bool) []string {
	var out []string
	for _, c := range r.CookiesNamed(CookieName(base, secure)) {
		out = append(out, c.Value)
	}
	return out
}
