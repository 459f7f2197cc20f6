package apps

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/wsgate/wsgate/acl"
)

// appTarget is what an app request addresses: a port on a workspace's
// loopback, and the path to ask the app for.
type appTarget struct {
	ws   acl.WorkspaceID
	port uint16
	// prefix is the path prefix stripped before forwarding ("" for the
	// subdomain form), told to the app in X-Forwarded-Prefix.
	prefix string
	// path and rawPath are what the app sees as the request path.
	path, rawPath string
}

// Errors of app address parsing; each maps to one answer.
var (
	errAppNotFound = errors.New("not an app address")
	errAppBadPort  = errors.New("bad app port")
	// errAppNoSlash: the path form without the slash after the port, which
	// is redirected so that the app's relative links resolve.
	errAppNoSlash = errors.New("app path without trailing slash")
)

// appPathPrefix starts every path-form app address: /@owner/name/apps/port/.
const appPathPrefix = "/@"

// parseAppPath parses /@<owner>/<name>/apps/<port>/<rest> from an escaped
// path. Names are checked later, with the authorization, so that an invalid
// one answers exactly like a missing workspace.
func parseAppPath(escaped string) (appTarget, error) {
	rest, ok := strings.CutPrefix(escaped, appPathPrefix)
	if !ok {
		return appTarget{}, errAppNotFound
	}
	parts := strings.SplitN(rest, "/", 5)
	if len(parts) < 4 || parts[2] != "apps" {
		return appTarget{}, errAppNotFound
	}
	owner, err1 := url.PathUnescape(parts[0])
	name, err2 := url.PathUnescape(parts[1])
	if err1 != nil || err2 != nil {
		return appTarget{}, errAppNotFound
	}
	port, err := parseAppPort(parts[3])
	if err != nil {
		return appTarget{}, err
	}
	t := appTarget{ws: acl.WorkspaceID{Owner: owner, Name: name}, port: port}
	t.prefix = appPathPrefix + strings.Join(parts[:4], "/")
	if len(parts) == 4 {
		return t, errAppNoSlash
	}
	if err := t.setPath("/" + parts[4]); err != nil {
		return appTarget{}, err
	}
	return t, nil
}

// parseAppHost parses <port>--<name>--<owner>.<domain> (host without port,
// lower case). ok is false when host is not under domain at all.
func parseAppHost(host, domain string) (t appTarget, ok bool, err error) {
	label, under := strings.CutSuffix(host, "."+domain)
	if !under || label == "" {
		return appTarget{}, false, nil
	}
	parts := strings.Split(label, "--")
	if len(parts) != 3 || strings.Contains(label, ".") {
		return appTarget{}, true, errAppNotFound
	}
	port, err := parseAppPort(parts[0])
	if err != nil {
		return appTarget{}, true, err
	}
	return appTarget{ws: acl.WorkspaceID{Owner: parts[2], Name: parts[1]}, port: port}, true, nil
}

func (t *appTarget) setPath(raw string) error {
	p, err := url.PathUnescape(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", errAppNotFound, err)
	}
	t.path, t.rawPath = p, raw
	return nil
}

// parseAppPort accepts 1..65535 in canonical decimal only, so that one
// port has one address.
func parseAppPort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 || strconv.FormatUint(n, 10) != s {
		return 0, fmt.Errorf("%w %q: want a number from 1 to 65535", errAppBadPort, s)
	}
	return uint16(n), nil
}

// requestHost is the Host header without port or trailing dot, lower case.
func requestHost(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// validAppsDomain checks the --apps-domain value: a DNS name of at least
// two labels.
func validAppsDomain(d string) error {
	if d == "" {
		return nil
	}
	if len(d) > 253 || !strings.Contains(d, ".") {
		return fmt.Errorf("apps domain %q: want a DNS name such as apps.example.com", d)
	}
	for label := range strings.SplitSeq(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("apps domain %q: bad label %q", d, label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("apps domain %q: only lowercase letters, digits, hyphens and dots", d)
			}
		}
	}
	return nil
}
