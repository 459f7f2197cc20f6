package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/internal/websession"
)

// cookieReq sends method path with the session cookie value (none when
// ""), with the CSRF header when csrf.
func (e *env) cookieReq(method, path, cookie string, csrf bool, body string) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx(), method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: websession.SessionCookie, Value: cookie})
	}
	if csrf {
		req.Header.Set(websession.CSRFHeader, "1")
	}
	return e.send(req)
}

// sessionCookie is the session value an answer sets.
func sessionCookie(t *testing.T, r response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == websession.SessionCookie {
			return c
		}
	}
	t.Fatalf("no session cookie in %q", r.header.Values("Set-Cookie"))
	return nil
}

func TestSignInWithTokenAndCookieAuth(t *testing.T) {
	e := newEnv(t)
	e.user("carol")
	// Without the CSRF header a sign-in is refused: another site could
	// sign the browser in as someone else.
	req, _ := http.NewRequestWithContext(e.ctx(), "POST", e.url+apitypes.SignInPath, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["carol"])
	if r := e.send(req); r.status != http.StatusForbidden {
		t.Fatalf("sign-in without CSRF header: %d %s", r.status, r.body)
	}
	req, _ = http.NewRequestWithContext(e.ctx(), "POST", e.url+apitypes.SignInPath, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["carol"])
	req.Header.Set(websession.CSRFHeader, "1")
	r := e.send(req)
	if r.status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	c := sessionCookie(t, r)
	sc := strings.Join(r.header.Values("Set-Cookie"), "|")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("Set-Cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(c.Value, e.tokens["carol"]) {
		t.Fatal("the session cookie holds the API token")
	}
	var me apitypes.User
	r = e.cookieReq("GET", "/api/v1/users/me", c.Value, true, "")
	r.json(t, &me)
	if r.status != http.StatusOK || me.Name != "carol" {
		t.Fatalf("me by cookie: %d %s", r.status, r.body)
	}
	// The cookie without the header: refused, for reads too.
	if r := e.cookieReq("GET", "/api/v1/users/me", c.Value, false, ""); r.status != http.StatusForbidden {
		t.Fatalf("cookie without CSRF header: %d %s", r.status, r.body)
	}
	if r := e.cookieReq("GET", "/api/v1/users/me", "forged."+c.Value, true, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("forged cookie: %d %s", r.status, r.body)
	}
	// Revoking the token ends the session.
	toks, err := e.store.ListTokens(e.ctx(), "carol")
	e.must(err)
	e.must(e.store.RevokeToken(e.ctx(), "carol", toks[0].ID))
	if r := e.cookieReq("GET", "/api/v1/users/me", c.Value, true, ""); r.status != http.StatusUnauthorized {
		t.Fatalf("after revoking the token: %d %s", r.status, r.body)
	}
}

func TestSignInCodeIsSingleUseAndBoundToTheToken(t *testing.T) {
	e := newEnv(t)
	e.user("carol")
	// Expiring token: the session must not outlive it.
	secret := acl.NewSecret(acl.APITokenPrefix)
	tokExp := e.clock.Now().Add(2 * time.Hour)
	e.must(e.store.CreateToken(e.ctx(), acl.Token{ID: acl.NewID(), User: "carol", Name: "short", Hash: acl.HashToken(secret), CreatedAt: e.clock.Now(), ExpiresAt: tokExp}))

	if r := e.do("", "POST", apitypes.SignInCodesPath, nil); r.status != http.StatusUnauthorized {
		t.Fatalf("code without token: %d", r.status)
	}
	var code apitypes.SignInCode
	e.expect(http.StatusOK, secret, "POST", apitypes.SignInCodesPath, nil).json(t, &code)
	if code.URL != "https://gw.example/signin#code="+code.Code || !code.ExpiresAt.Equal(e.clock.Now().Add(websession.WebCodeTTL).Truncate(time.Millisecond)) {
		t.Fatalf("code %+v", code)
	}
	body := `{"code":"` + code.Code + `"}`
	r := e.cookieReq("POST", apitypes.SignInPath, "", true, body)
	if r.status != http.StatusOK {
		t.Fatalf("redeem: %d %s", r.status, r.body)
	}
	var in apitypes.SignInResponse
	r.json(t, &in)
	if in.User != "carol" || !in.ExpiresAt.Equal(tokExp) {
		t.Fatalf("signed in %+v, want carol until the token's expiry %v", in, tokExp)
	}
	if r := e.cookieReq("POST", apitypes.SignInPath, "", true, body); r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "already used") {
		t.Fatalf("replayed code: %d %s", r.status, r.body)
	}
	if r := e.cookieReq("POST", apitypes.SignInPath, "", true, `{"code":"v1.forged"}`); r.status != http.StatusUnauthorized {
		t.Fatalf("forged code: %d %s", r.status, r.body)
	}
	e.expect(http.StatusOK, secret, "POST", apitypes.SignInCodesPath, nil).json(t, &code)
	e.clock.Advance(websession.WebCodeTTL)
	if r := e.cookieReq("POST", apitypes.SignInPath, "", true, `{"code":"`+code.Code+`"}`); r.status != http.StatusUnauthorized {
		t.Fatalf("expired code: %d %s", r.status, r.body)
	}
}
