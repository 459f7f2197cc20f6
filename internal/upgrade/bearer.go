// Package upgrade is HTTP Upgrade, server and client.
package upgrade

import (
	"net/http"
	"strings"
)

// BearerToken returns the token of an "Authorization: Bearer <token>" value.
func BearerToken(v string) (string, bool) {
	scheme, token, ok := strings.Cut(v, " ")
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
