package apps

import (
	"net/http"
	"strings"

	"github.com/wsgate/wsgate/internal/upgrade"
)

// fetchVerdict decides whether a request that a ticket cookie
// authenticates may reach the app. Every app host under the apps domain is
// the same site, so SameSite cannot tell a sibling app's page from the
// app's own: the browser's Sec-Fetch-Site and Origin headers can.
//
//   - WebSocket (any upgrade) and every method but GET and HEAD: Origin
//     must be the app's own origin (or one the owner allowed).
//   - GET and HEAD: Sec-Fetch-Site same-origin or none (typed, bookmarked),
//     or a top-level navigation (Sec-Fetch-Mode navigate, Sec-Fetch-Dest
//     document), which is what following a link is; else an allowed
//     Origin.
//   - A request with neither Sec-Fetch-Site nor Origin is refused: only an
//     old browser or a non-browser sends such a thing with a cookie, and
//     non-browsers use bearer tokens.
//
// allowed reports whether an owner allowed an origin besides the app's own;
// it is only asked when the rules above refuse. why explains a refusal.
func fetchVerdict(r *http.Request, own string, allowed func(origin string) bool) (ok bool, why string) {
	h := r.Header
	site, origin := h.Get("Sec-Fetch-Site"), h.Get("Origin")
	if site == "" && origin == "" {
		return false, "the browser sent neither Sec-Fetch-Site nor Origin"
	}
	originOK := func() bool {
		return origin != "" && (strings.EqualFold(origin, own) || allowed(strings.ToLower(origin)))
	}
	isUpgrade := h.Get("Upgrade") != "" || upgrade.HeaderHas(h, "Connection", "upgrade")
	if isUpgrade || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		if originOK() {
			return true, ""
		}
		return false, "Origin " + quoteOrNone(origin) + " is not this app's"
	}
	switch site {
	case "same-origin", "none":
		return true, ""
	}
	if h.Get("Sec-Fetch-Mode") == "navigate" && h.Get("Sec-Fetch-Dest") == "document" {
		return true, ""
	}
	if originOK() {
		return true, ""
	}
	return false, "Sec-Fetch-Site " + quoteOrNone(site) + " for a request that is not a top-level navigation"
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return `"` + s + `"`
}
