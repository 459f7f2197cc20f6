// Package websession signs the browser credentials of the gateway: the
// signed-in session on the gateway's own origin, the one-time codes that
// start one (from `wsgate web`) or that carry a sign-in to an app host, and
// the per-app-host tickets. None of them holds an API token: each names the
// token it rests on (by hash), is signed with a key every replica shares
// (acl.Store.Secret), expires no later than that token, and is checked
// against the store on use, so revoking or expiring the token ends it.
//
// One-time codes are single-use on every replica: the store records a
// code's use until it expires (acl.OnceStore); they are short-lived (30 s for apps, 60 s for
// `wsgate web`), and app codes are also bound to a state cookie of the
// browser they were made for.
package websession
