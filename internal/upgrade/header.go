// Package upgrade is HTTP/1.1 Upgrade, server and client, for the
// protocols wsgate carries over its HTTP(S) port: the agent tunnel and SSH
// over HTTPS. A server checks the request with Requested and takes the
// connection with Accept; a client opens one with Dial. It imports only the
// standard library.
package upgrade

import (
	"net/http"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer <token>"
// value: the scheme in any case, the token trimmed and not empty.
func BearerToken(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(authorization, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// HeaderHas reports whether the comma-separated values of header name
// contain want, ignoring case.
func HeaderHas(h http.Header, name, want string) bool {
	for _, v := range h.Values(name) {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), want) {
				return true
			}
		}
	}
	return false
}

// Requested reports whether r asks to switch to proto: "Connection:
// upgrade" and "Upgrade: proto". Servers that answer the two missing
// headers differently check them with HeaderHas.
func Requested(r *http.Request, proto string) bool {
	return HeaderHas(r.Header, "Connection", "upgrade") && HeaderHas(r.Header, "Upgrade", proto)
}
