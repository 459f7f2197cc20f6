package acl

import (
	"net/url"
	"strings"
)

// splitOrigins reads a comma- or space-separated list; "" is none.
func splitOrigins(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, strings.TrimSuffix(f, "/"))
	}
	return out
}

// validateOrigins accepts web origins only: http or https, a host, an
// optional port, nothing else, in lower case (as browsers send them).
func validateOrigins(list string) error {
	for _, o := range splitOrigins(list) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || o != strings.ToLower(o) {
			return Invalid(SettingAppAllowedOrigins, "invalid origin %q in %s: want scheme://host[:port] in lower case, such as https://tools.example.com", o, SettingAppAllowedOrigins)
		}
	}
	return nil
}

// AllowsAppOrigin reports whether origin is one of AppAllowedOrigins.
func (s WorkspaceSettings) AllowsAppOrigin(origin string) bool {
	for _, o := range splitOrigins(s.AppAllowedOrigins) {
		if o == origin {
			return true
		}
	}
	return false
}
