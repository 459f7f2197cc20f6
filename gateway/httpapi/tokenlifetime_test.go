package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/gateway/httpapi"
)

func TestMaxTokenLifetime(t *testing.T) {
	e := newEnv(t)
	e.user("bob")
	path := "/api/v1/users/bob/tokens"
	now := e.clock.Now()
	var res apitypes.CreateTokenResponse
	// No expiry asked: the longest allowed.
	e.expect(http.StatusCreated, "bob", "POST", path, apitypes.CreateTokenRequest{Name: "a"}).json(t, &res)
	if want := now.Add(httpapi.DefaultMaxTokenLifetime); !res.Token.ExpiresAt.Equal(want) {
		t.Fatalf("token without an expiry expires at %v, want %v", res.Token.ExpiresAt, want)
	}
	// Within the limit: as asked.
	asked := now.Add(24 * time.Hour).UTC().Truncate(time.Second)
	e.expect(http.StatusCreated, "bob", "POST", path, apitypes.CreateTokenRequest{Name: "b", ExpiresAt: asked.Format(time.RFC3339)}).json(t, &res)
	if !res.Token.ExpiresAt.Equal(asked) {
		t.Fatalf("expires %v, want %v", res.Token.ExpiresAt, asked)
	}
	// Beyond it: refused, saying why.
	r := e.expect(http.StatusBadRequest, "bob", "POST", path, apitypes.CreateTokenRequest{Name: "c", ExpiresAt: "9999-12-31T00:00:00Z"})
	if msg := r.apiError(t).Message; !strings.Contains(msg, "--max-token-lifetime") {
		t.Fatalf("message %q", msg)
	}

	// A negative limit is none.
	e2 := newEnv(t, func(o *envOptions) { o.cfg.MaxTokenLifetime = -1 })
	e2.user("bob")
	res = apitypes.CreateTokenResponse{}
	e2.expect(http.StatusCreated, "bob", "POST", path, apitypes.CreateTokenRequest{Name: "a"}).json(t, &res)
	if !res.Token.ExpiresAt.IsZero() {
		t.Fatalf("token expires at %v without a limit", res.Token.ExpiresAt)
	}
}
