package websession

import (
	"errors"
	"net/http"
	"strings"

	"github.com/wsgate/wsgate/acl"
)

// Errors of FromRequest besides acl.ErrBadToken.
var (
	// ErrNoSession: the request carries no session cookie.
	ErrNoSession = errors.New("not signed in")
	// ErrCSRF: a cookie-authenticated request without CSRFHeader, or from
	// another origin.
	ErrCSRF = errors.New("a request signed in by cookie must come from the gateway's own page (" + CSRFHeader + " header, same Origin)")
)

// FromRequest authenticates r by its session cookie: the cookie must be
// one this gateway signed, unexpired, resting on a token that still holds
// (Live), and the request must carry CSRFHeader and no foreign Origin.
// scheme is the scheme the browser used ("https" makes the cookie
// "__Host-"). An invalid or expired session is acl.ErrBadToken.
func (s *Signer) FromRequest(r *http.Request, tr acl.TokenReader, scheme string) (Claims, acl.User, acl.Token, error) {
	values := CookieValues(r, SessionCookie, scheme == "https")
	if len(values) == 0 {
		return Claims{}, acl.User{}, acl.Token{}, ErrNoSession
	}
	if r.Header.Get(CSRFHeader) == "" {
		return Claims{}, acl.User{}, acl.Token{}, ErrCSRF
	}
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, scheme+"://"+r.Host) {
		return Claims{}, acl.User{}, acl.Token{}, ErrCSRF
	}
	for _, v := range values {
		c, err := s.Verify(r.Context(), v, KindSession)
		if errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
			continue
		}
		if err != nil {
			return Claims{}, acl.User{}, acl.Token{}, err
		}
		u, tok, err := Live(r.Context(), tr, c, s.now())
		if errors.Is(err, acl.ErrBadToken) {
			continue
		}
		return c, u, tok, err
	}
	return Claims{}, acl.User{}, acl.Token{}, acl.ErrBadToken
}
