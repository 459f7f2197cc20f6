package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/internal/apps"
	"github.com/wsgate/wsgate/gateway/internal/websession"
)

// browser sends requests to the proxy as a browser would: a Host, its
// cookie jar for that host, Sec-Fetch headers.
type browser struct {
	ae      *appEnv
	cookies map[string]map[string]string // host → name → value
}

func newBrowser(ae *appEnv) *browser {
	return &browser{ae: ae, cookies: map[string]map[string]string{}}
}

type answer struct {
	status int
	body   string
	header http.Header
}

// do sends method path to host with headers h; Set-Cookie answers update
// the jar.
func (b *browser) do(method, host, path string, h map[string]string) answer {
	b.ae.t.Helper()
	req, err := http.NewRequest(method, b.ae.base+path, nil)
	if err != nil {
		b.ae.t.Fatal(err)
	}
	req.Host = host
	for k, v := range h {
		req.Header.Set(k, v)
	}
	for name, v := range b.cookies[host] {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		b.ae.t.Fatalf("%s %s%s: %v", method, host, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if b.cookies[host] == nil {
			b.cookies[host] = map[string]string{}
		}
		if ck.MaxAge < 0 {
			delete(b.cookies[host], ck.Name)
		} else {
			b.cookies[host][ck.Name] = ck.Value
		}
	}
	return answer{resp.StatusCode, string(body), resp.Header}
}

var navigate = map[string]string{"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}

// appCode asks for a code as user's browser page would (by bearer here).
func (ae *appEnv) appCode(token, host, state string) (int, string) {
	ae.t.Helper()
	body := fmt.Sprintf(`{"host":%q,"state":%q}`, host, state)
	req, _ := http.NewRequest("POST", ae.base+apitypes.AppCodePath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ae.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out apitypes.AppCodeResponse
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	if out.Redirect == "" {
		return resp.StatusCode, string(b)
	}
	return resp.StatusCode, out.Redirect
}

// startSignIn navigates to host/path without a ticket and returns the
// state the sign-in redirect carries.
func (b *browser) startSignIn(host, path string) string {
	b.ae.t.Helper()
	a := b.do("GET", host, path, navigate)
	if a.status != http.StatusSeeOther {
		b.ae.t.Fatalf("navigation without a ticket: %d %q", a.status, a.body)
	}
	loc, err := url.Parse(a.header.Get("Location"))
	if err != nil || loc.Host != "gw.test" || loc.Path != apitypes.SignInPage || loc.Query().Get("app") != host {
		b.ae.t.Fatalf("sign-in redirect to %q", a.header.Get("Location"))
	}
	return loc.Query().Get("state")
}

// callbackPath is the path and query of the redirect an app code answered.
func callbackPath(t *testing.T, redirect, host string) string {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil || u.Host != host || u.Path != apps.CallbackPath {
		t.Fatalf("code redirect %q, want %s%s", redirect, host, apps.CallbackPath)
	}
	return u.RequestURI()
}

func TestAppSignInFlow(t *testing.T) {
	ae := newAppEnv(t)
	ae.share(aliceWS, acl.SubjectUser, "bob", acl.RoleUse)
	bob, bobID := ae.apiToken("bob")
	host := fmt.Sprintf("%d--alice-ws--alice.%s", ae.appPort, testAppsDomain)
	other := fmt.Sprintf("%d--alice-ws--alice.%s", ae.appPort+1, testAppsDomain)
	br := newBrowser(ae)

	// Not signed in: navigations go to the sign-in, other requests get 401.
	if a := br.do("GET", host, "/x", map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}); a.status != http.StatusUnauthorized {
		t.Fatalf("fetch without a ticket: %d", a.status)
	}
	state := br.startSignIn(host, "/x?y=1")
	code, redirect := ae.appCode(bob, host, state)
	if code != http.StatusOK {
		t.Fatalf("app code: %d %s", code, redirect)
	}
	cb := callbackPath(t, redirect, host)
	a := br.do("GET", host, cb, navigate)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/x?y=1" {
		t.Fatalf("callback: %d %q %q", a.status, a.header.Get("Location"), a.body)
	}
	if br.cookies[host][websession.TicketCookie] == "" || br.cookies[host][websession.StateCookie] != "" {
		t.Fatalf("after the callback the jar holds %v: want a ticket and no state", br.cookies[host])
	}
	sc := strings.Join(a.header.Values("Set-Cookie"), "|")
	if !strings.Contains(sc, "HttpOnly") || strings.Contains(sc, "Domain=") || strings.Contains(sc, bob) {
		t.Fatalf("ticket Set-Cookie %q: want HttpOnly, host-only, no token", sc)
	}
	// The ticket works for the app's own page; the app sees none of the
	// gateway's cookies.
	a = br.do("GET", host, "/x", map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"})
	wantStatus(t, "ticket", a.status, a.body, http.StatusOK, "cookie=\n")
	own := "http://" + host
	a = br.do("POST", host, "/form", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": own})
	wantStatus(t, "own POST", a.status, a.body, http.StatusOK, "method=POST\n")
	// A sibling app's page: refused, and the app never sees it.
	sib := "http://" + other
	a = br.do("POST", host, "/form", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": sib})
	wantStatus(t, "sibling POST", a.status, a.body, http.StatusForbidden, "must come from the app's own pages")
	a = br.do("GET", host, "/x", map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"})
	wantStatus(t, "sibling script", a.status, a.body, http.StatusForbidden, "Sec-Fetch-Site")
	a = br.do("GET", host, "/x", nil)
	wantStatus(t, "no Sec-Fetch-Site, no Origin", a.status, a.body, http.StatusForbidden, "neither")
	// The owner allows a named origin.
	must(t, ae.store.SetWorkspaceSettings(t.Context(), aliceWS, acl.WorkspaceSettings{AppAllowedOrigins: sib}))
	a = br.do("POST", host, "/form", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": sib})
	wantStatus(t, "allowed sibling POST", a.status, a.body, http.StatusOK, "method=POST\n")

	// The ticket is this host's alone: on another app host it is no ticket.
	br.cookies[other] = map[string]string{websession.TicketCookie: br.cookies[host][websession.TicketCookie]}
	if a := br.do("GET", other, "/", map[string]string{"Sec-Fetch-Site": "same-origin"}); a.status != http.StatusUnauthorized {
		t.Fatalf("ticket on another host: %d %q", a.status, a.body)
	}

	// Replay: the same code again, even with a fresh state cookie.
	state2 := br.startSignIn(other, "/")
	_ = state2
	if a := br.do("GET", host, cb, navigate); a.status != http.StatusForbidden || !strings.Contains(a.body, "already used") && !strings.Contains(a.body, "invalid, expired, already used") {
		t.Fatalf("replayed code: %d %q", a.status, a.body)
	}
	// Wrong host: a code for host redeemed at other.
	_, redirect = ae.appCode(bob, host, state2)
	u, _ := url.Parse(redirect)
	if a := br.do("GET", other, u.RequestURI(), navigate); a.status != http.StatusForbidden {
		t.Fatalf("code for another host: %d %q", a.status, a.body)
	}
	// Wrong state: a code for another browser's (the attacker's) state.
	_, redirect = ae.appCode(bob, other, "attackers-state-0123456789")
	if a := br.do("GET", other, callbackPath(t, redirect, other), navigate); a.status != http.StatusForbidden || !strings.Contains(a.body, "not started by this browser") {
		t.Fatalf("code for another state: %d %q", a.status, a.body)
	}
	// Expired: 30 s at most.
	_, redirect = ae.appCode(bob, other, state2)
	ae.clock.Advance(websession.AppCodeTTL)
	if a := br.do("GET", other, callbackPath(t, redirect, other), navigate); a.status != http.StatusForbidden {
		t.Fatalf("expired code: %d %q", a.status, a.body)
	}
	// Forged.
	if a := br.do("GET", other, apps.CallbackPath+"?code=eyJrIjoiYXBwLWNvZGUifQ.AAAA", navigate); a.status != http.StatusForbidden {
		t.Fatalf("forged code: %d %q", a.status, a.body)
	}
	// Codes are only made for app hosts.
	if code, _ := ae.appCode(bob, "evil.example.com", state2); code != http.StatusBadRequest {
		t.Fatalf("code for a foreign host: %d", code)
	}

	// A WebSocket on the ticket, from the app's own page, ends when the
	// token is revoked, like its other sessions.
	w := ae.watchEvents(ae.rv)
	conn, rd := ae.dialUpgradeHeaders(host, "/ws", map[string]string{
		"Cookie": websession.TicketCookie + "=" + br.cookies[host][websession.TicketCookie], "Origin": own, "Sec-Fetch-Site": "same-origin",
	})
	_ = conn
	<-ae.app.upgrade
	readLine(t, rd)
	must(t, ae.store.RevokeToken(t.Context(), "bob", bobID))
	w.sync()
	waitClosed(t, "ticket WebSocket after revoking its token", rd)
	// And the ticket no longer opens the app: a navigation goes to sign in.
	if a := br.do("GET", host, "/x", navigate); a.status != http.StatusSeeOther {
		t.Fatalf("ticket of a revoked token: %d %q", a.status, a.body)
	}
	ae.waitNoSessions()
}
