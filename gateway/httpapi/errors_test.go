package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

// basicEnv has a site admin root, users alice and bob, and alice/ws.
func basicEnv(t *testing.T, opts ...envOption) *env {
	e := newEnv(t, opts...)
	e.user("root", siteAdmin)
	e.user("alice")
	e.user("bob")
	e.workspace("alice", "ws", "")
	return e
}

func TestAuthFailuresLookAlike(t *testing.T) {
	e := basicEnv(t)
	e.user("sus")
	e.must(e.store.SetUserSuspended(e.ctx(), "sus", true))
	e.user("gone")
	e.must(e.store.DeleteUser(e.ctx(), "gone"))
	expiring := acl.NewSecret(acl.APITokenPrefix)
	e.must(e.store.CreateToken(e.ctx(), acl.Token{ID: acl.NewID(), User: "alice", Name: "short", Hash: acl.HashToken(expiring),
		CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(60e9)}))
	e.tokens["expiring"] = expiring
	e.expect(http.StatusOK, "expiring", "GET", "/api/v1/users/me", nil)
	e.clock.Advance(61e9)

	var first string
	for name, req := range map[string]func() *http.Request{
		"missing": func() *http.Request { return e.newRequest("") },
		"wrong":   func() *http.Request { return e.newRequest("Bearer wsg_nope") },
		"empty":   func() *http.Request { return e.newRequest("Bearer ") },
		"scheme":  func() *http.Request { return e.newRequest("Basic " + e.tokens["alice"]) },
		"expired": func() *http.Request { return e.newRequest("Bearer " + expiring) },
		"deleted": func() *http.Request { return e.newRequest("Bearer " + e.tokens["gone"]) },
	} {
		r := e.send(req())
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, r.status)
		}
		if r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate header", name)
		}
		if first == "" {
			first = string(r.body)
		} else if string(r.body) != first {
			t.Errorf("%s: body %s differs from %s", name, r.body, first)
		}
	}
	// A valid token of a suspended user is told so: only the token's
	// holder can ask, so this reveals nothing to anyone else.
	if r := e.send(e.newRequest("Bearer " + e.tokens["sus"])); r.status != http.StatusUnauthorized ||
		!strings.Contains(string(r.body), "your account is suspended") {
		t.Errorf("suspended: status %d, body %s", r.status, r.body)
	}
	// The scheme is case-insensitive.
	r := e.send(e.newRequest("bearer " + e.tokens["alice"]))
	if r.status != http.StatusOK {
		t.Errorf("lowercase bearer: status %d", r.status)
	}
}

func (e *env) newRequest(auth string) *http.Request {
	req, err := http.NewRequestWithContext(e.ctx(), "GET", e.url+"/api/v1/users/me", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

func TestBadBodies(t *testing.T) {
	e := basicEnv(t)
	cases := []struct {
		name   string
		body   any
		status int
		msg    string
		field  string
	}{
		{"bad json", `{"name": `, 400, "invalid JSON", ""},
		{"not json", `hello`, 400, "invalid JSON", ""},
		{"empty", ``, 400, "request body is empty", ""},
		{"unknown field", `{"name": "ws2", "colour": "red"}`, 400, `unknown field "colour"`, "colour"},
		{"wrong type", `{"name": 7}`, 400, "name: expected string", "name"},
		{"two values", `{"name": "ws2"} {"name": "ws3"}`, 400, "more than one JSON value", ""},
		{"oversize", `{"name": "` + strings.Repeat("a", apitypes.MaxBodyBytes) + `"}`, 413, "larger than", ""},
		{"oversize after a value", `{"name": "ws2"}` + strings.Repeat(" ", apitypes.MaxBodyBytes), 413, "larger than", ""},
		{"bad name", `{"name": "Bad_Name"}`, 400, "lowercase", "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("alice", "POST", "/api/v1/workspaces", tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			apiErr := r.apiError(t)
			if !strings.Contains(apiErr.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", apiErr.Message, tc.msg)
			}
			if tc.field != "" && (len(apiErr.Validations) != 1 || apiErr.Validations[0].Field != tc.field) {
				t.Errorf("validations %+v, want field %q", apiErr.Validations, tc.field)
			}
		})
	}
	// Nothing was created by any of them.
	ws, err := e.store.WorkspacesOwnedBy(e.ctx(), "alice")
	e.must(err)
	if len(ws) != 1 {
		t.Errorf("alice owns %d workspaces, want 1", len(ws))
	}
}

func TestNotFoundAndInvisibleLookAlike(t *testing.T) {
	e := basicEnv(t)
	hidden := e.expect(http.StatusNotFound, "bob", "GET", "/api/v1/workspaces/alice/ws", nil)
	missing := e.expect(http.StatusNotFound, "bob", "GET", "/api/v1/workspaces/alice/nope", nil)
	got := strings.Replace(string(hidden.body), "alice/ws", "X", 1)
	want := strings.Replace(string(missing.body), "alice/nope", "X", 1)
	if got != want {
		t.Errorf("hidden %s and missing %s differ", hidden.body, missing.body)
	}
	for _, p := range []string{"/acl", "/start", "/stop", "/update"} {
		method := "POST"
		if p == "/acl" {
			method = "GET"
		}
		e.expect(http.StatusNotFound, "bob", method, "/api/v1/workspaces/alice/ws"+p, nil)
	}
	e.expect(http.StatusNotFound, "bob", "DELETE", "/api/v1/workspaces/alice/ws", nil)
	e.expect(http.StatusNotFound, "bob", "PATCH", "/api/v1/workspaces/alice/ws/acl", map[string]any{"users": map[string]string{"bob": "use"}})
	// Visible but not allowed is 403.
	e.grant(acl.WorkspaceID{Owner: "alice", Name: "ws"}, acl.SubjectUser, "bob", acl.RoleUse)
	e.expect(http.StatusForbidden, "bob", "DELETE", "/api/v1/workspaces/alice/ws", nil)
	// Malformed names cannot exist: 404 too.
	e.expect(http.StatusNotFound, "bob", "GET", "/api/v1/workspaces/alice/BAD", nil)
}

func TestConflicts(t *testing.T) {
	e := basicEnv(t)
	r := e.expect(http.StatusConflict, "alice", "POST", "/api/v1/workspaces", map[string]string{"name": "ws"})
	if msg := r.apiError(t).Message; !strings.Contains(msg, "already exists") {
		t.Errorf("message %q", msg)
	}
	e.expect(http.StatusConflict, "root", "POST", "/api/v1/users", map[string]string{"name": "bob"})
	e.expect(http.StatusCreated, "root", "POST", "/api/v1/groups", map[string]string{"name": "g"})
	e.expect(http.StatusConflict, "root", "POST", "/api/v1/groups", map[string]string{"name": "g"})
	e.expect(http.StatusCreated, "root", "POST", "/api/v1/orgs", map[string]string{"name": "acme"})
	e.expect(http.StatusConflict, "root", "POST", "/api/v1/orgs", map[string]string{"name": "acme"})
	e.workspace("alice", "other", "")
	e.expect(http.StatusConflict, "alice", "PATCH", "/api/v1/workspaces/alice/ws", map[string]string{"name": "other"})
	// A user who owns workspaces cannot be deleted.
	e.expect(http.StatusConflict, "root", "DELETE", "/api/v1/users/alice", nil)
}

func TestUnknownRoutesAnswerJSON(t *testing.T) {
	e := basicEnv(t)
	r := e.expect(http.StatusNotFound, "alice", "GET", "/api/v1/nothing-here", nil)
	r.apiError(t)
	r = e.expect(http.StatusMethodNotAllowed, "alice", "PUT", "/api/v1/workspaces", nil)
	r.apiError(t)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow %q", allow)
	}
}
