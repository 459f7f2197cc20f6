package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/gateway/apitypes"
)

// TestWebPrintsAOneTimeLink: `wsgate web --no-open` prints a link whose
// code signs a browser in once, as the CLI's user, without the token.
func TestWebPrintsAOneTimeLink(t *testing.T) {
	c := newCLIEnv(t)
	c.user("alice", false)
	out := c.ok("alice", "web", "--no-open")
	i := strings.Index(out, "#code=")
	if i < 0 || strings.Contains(out, c.tokens["alice"]) {
		t.Fatalf("output %q: want a link with a code and no token", out)
	}
	code := strings.TrimSpace(out[i+len("#code="):])
	redeem := func() int {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", c.url+apitypes.SignInPath, strings.NewReader(`{"code":"`+code+`"}`))
		req.Header.Set(apitypes.CSRFHeader, "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := redeem(); got != http.StatusOK {
		t.Fatalf("first use: %d", got)
	}
	if got := redeem(); got != http.StatusUnauthorized {
		t.Fatalf("second use: %d", got)
	}
}
