package edge

import (
	"context"
	"net/http"
)

// schemeKey is the context key of the original scheme a trusted proxy
// reported ("http" or "https").
type schemeKey struct{}

// Forwarded returns a handler that, for requests whose peer (r.RemoteAddr)
// is a trusted proxy, passes next a shallow copy of the request with
// RemoteAddr set to the client's address and the original scheme recorded
// for Secure and Scheme.
//
// The client's address comes from the RFC 7239 Forwarded header when present
// and well formed (for=, with IPv6 in brackets and an optional port), else
// from X-Forwarded-For; the scheme from the client's Forwarded element's
// proto= or else X-Forwarded-Proto (only "http" and "https" count). Hops are
// walked from the right: trusted proxies are skipped and the first hop that
// is not one is the client. RemoteAddr is then "ip:port", with port 0 when
// the header gave none ("[ipv6]:0" for IPv6). When that hop is "unknown",
// obfuscated or unreadable, or the headers are malformed or absent,
// RemoteAddr stays the peer's address: a bad header never fails a request.
//
// Requests from any other peer pass unchanged: their headers are ignored,
// for the address and for the scheme. With no trusted proxies Forwarded
// returns next itself.
//
// Every trusted proxy must set (or append to) the header it forwards with:
// one that writes only X-Forwarded-For must remove a Forwarded header sent by
// clients, since Forwarded is preferred.
func Forwarded(p Proxies, next http.Handler) http.Handler {
	if p.empty() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.Trusts(r.RemoteAddr) {
			next.ServeHTTP(w, r)
			return
		}
		from, scheme := origin(p, r.Header)
		if !from.IsValid() && scheme == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if scheme != "" {
			ctx = context.WithValue(ctx, schemeKey{}, scheme)
		}
		r = r.WithContext(ctx) // a shallow copy: next may not change ours
		if from.IsValid() {
			r.RemoteAddr = from.String()
		}
		next.ServeHTTP(w, r)
	})
}

// Scheme is the scheme the client used: the one a trusted proxy reported
// (see Forwarded), else "https" when the request came over TLS, else "http".
func Scheme(r *http.Request) string {
	if s, ok := r.Context().Value(schemeKey{}).(string); ok {
		return s
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// Secure reports whether the client used https, so that cookies set in the
// response should be Secure. A trusted proxy's report wins over the
// connection's own TLS: a browser that reached the proxy over plain http
// would not send a Secure cookie back.
func Secure(r *http.Request) bool { return Scheme(r) == "https" }
