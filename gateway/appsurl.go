package gateway

import (
	"net/url"
	"strings"
)

// appsURL is an app's address under domain, reached like accessURL (same
// scheme and port), with "{port}", "{name}" and "{owner}" to fill in; ""
// without a domain.
func appsURL(accessURL, domain string) string {
	if domain == "" {
		return ""
	}
	u, err := url.Parse(accessURL)
	if err != nil {
		return ""
	}
	host := "{port}--{name}--{owner}." + strings.TrimSuffix(strings.ToLower(domain), ".")
	if p := u.Port(); p != "" {
		host += ":" + p
	}
	return u.Scheme + "://" + host + "/"
}
