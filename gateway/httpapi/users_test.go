package httpapi_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
)

func newAuthorizedKey(t *testing.T, comment string) (line, fingerprint string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " " + comment, ssh.FingerprintSHA256(sp)
}

func TestUsers(t *testing.T) {
	e := basicEnv(t)
	key, fp := newAuthorizedKey(t, "carol@laptop")
	r := e.expect(http.StatusCreated, "root", "POST", "/api/v1/users", apitypes.CreateUserRequest{
		Name: "carol", DisplayName: "Carol", Keys: []string{key}})
	var u apitypes.User
	r.json(t, &u)
	if u.Name != "carol" || len(u.Keys) != 1 || u.Keys[0].Fingerprint != fp || u.Keys[0].Comment != "carol@laptop" {
		t.Fatalf("created %+v", u)
	}
	got, err := e.store.UserByKeyFingerprint(e.ctx(), fp)
	e.must(err)
	if got.Name != "carol" {
		t.Errorf("key resolves to %q", got.Name)
	}

	// Bad input is refused naming each item.
	r = e.expect(http.StatusBadRequest, "root", "POST", "/api/v1/users", apitypes.CreateUserRequest{Name: "me", Keys: []string{"ssh-ed25519 garbage"}})
	fields := ""
	for _, v := range r.apiError(t).Validations {
		fields += v.Field + " "
	}
	if fields != "name keys[0] " {
		t.Errorf("validation fields %q", fields)
	}
	e.expect(http.StatusBadRequest, "root", "POST", "/api/v1/users", apitypes.CreateUserRequest{Name: "opt", Keys: []string{`command="x" ` + key}})

	// Only site admins create, list, suspend, delete.
	e.expect(http.StatusForbidden, "alice", "POST", "/api/v1/users", apitypes.CreateUserRequest{Name: "eve"})
	e.expect(http.StatusForbidden, "alice", "GET", "/api/v1/users", nil)
	e.expect(http.StatusForbidden, "alice", "POST", "/api/v1/users/bob/suspend", nil)
	e.expect(http.StatusForbidden, "alice", "DELETE", "/api/v1/users/bob", nil)
	e.expect(http.StatusForbidden, "alice", "GET", "/api/v1/users/bob", nil)
	e.expect(http.StatusForbidden, "alice", "PATCH", "/api/v1/users/alice", map[string]bool{"site_admin": true})
	r = e.expect(http.StatusOK, "root", "GET", "/api/v1/users", nil)
	var all []apitypes.User
	r.json(t, &all)
	if len(all) != 4 {
		t.Errorf("%d users", len(all))
	}

	// Suspension cuts the user off at once; unsuspension restores.
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/users/me", nil)
	e.expect(http.StatusOK, "root", "POST", "/api/v1/users/bob/suspend", nil)
	e.expect(http.StatusUnauthorized, "bob", "GET", "/api/v1/users/me", nil)
	e.expect(http.StatusOK, "root", "POST", "/api/v1/users/bob/unsuspend", nil)
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/users/me", nil)
	e.expect(http.StatusBadRequest, "root", "POST", "/api/v1/users/root/suspend", nil)
	e.expect(http.StatusNotFound, "root", "POST", "/api/v1/users/ghost/suspend", nil)

	// Site admin flag.
	e.expect(http.StatusOK, "root", "PATCH", "/api/v1/users/bob", map[string]bool{"site_admin": true})
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/users", nil)
	e.expect(http.StatusBadRequest, "root", "PATCH", "/api/v1/users/root", map[string]bool{"site_admin": false})

	// Delete.
	e.expect(http.StatusNoContent, "root", "DELETE", "/api/v1/users/carol", nil)
	e.expect(http.StatusNotFound, "root", "GET", "/api/v1/users/carol", nil)
	e.expect(http.StatusBadRequest, "root", "DELETE", "/api/v1/users/root", nil)
}

func TestKeys(t *testing.T) {
	e := basicEnv(t)
	signer, key, fp := newSignerKey(t)
	// Users manage their own keys; others may not, site admins may.
	e.expect(http.StatusForbidden, "bob", "POST", "/api/v1/users/alice/keys", apitypes.AddKeyRequest{AuthorizedKey: key})
	r := e.expect(http.StatusCreated, "alice", "POST", "/api/v1/users/me/keys", e.proveKey("alice", "me", key, signer))
	var k apitypes.PublicKey
	r.json(t, &k)
	if k.Fingerprint != fp {
		t.Errorf("fingerprint %q, want %q", k.Fingerprint, fp)
	}
	// The same key cannot belong to two users (see also TestKeyInUse).
	e.expect(http.StatusConflict, "root", "POST", "/api/v1/users/bob/keys", apitypes.AddKeyRequest{AuthorizedKey: key})
	e.expect(http.StatusBadRequest, "alice", "POST", "/api/v1/users/me/keys", apitypes.AddKeyRequest{AuthorizedKey: "nonsense"})
	r = e.expect(http.StatusOK, "root", "GET", "/api/v1/users/alice/keys", nil)
	var ks []apitypes.PublicKey
	r.json(t, &ks)
	if len(ks) != 1 {
		t.Fatalf("keys %+v", ks)
	}
	// Fingerprints hold "/" and "+"; both the escaped and the raw form work.
	e.expect(http.StatusForbidden, "bob", "DELETE", "/api/v1/users/alice/keys/"+url.PathEscape(fp), nil)
	e.expect(http.StatusNoContent, "alice", "DELETE", "/api/v1/users/alice/keys/"+url.PathEscape(fp), nil)
	if _, err := e.store.UserByKeyFingerprint(e.ctx(), fp); err == nil {
		t.Error("key still resolves after removal")
	}
	e.expect(http.StatusNotFound, "alice", "DELETE", "/api/v1/users/alice/keys/"+url.PathEscape(fp), nil)
}

func TestTokens(t *testing.T) {
	e := basicEnv(t)
	r := e.expect(http.StatusCreated, "alice", "POST", "/api/v1/users/me/tokens", apitypes.CreateTokenRequest{Name: "laptop"})
	var ct apitypes.CreateTokenResponse
	r.json(t, &ct)
	if !strings.HasPrefix(ct.Secret, acl.APITokenPrefix) || ct.Token.User != "alice" || ct.Token.ID == "" {
		t.Fatalf("created %+v", ct)
	}
	e.tokens["laptop"] = ct.Secret
	e.expect(http.StatusOK, "laptop", "GET", "/api/v1/users/me", nil)
	r = e.expect(http.StatusOK, "alice", "GET", "/api/v1/users/me/tokens", nil)
	if strings.Contains(string(r.body), ct.Secret) || strings.Contains(string(r.body), acl.HashToken(ct.Secret)) {
		t.Error("token list shows the secret or its hash")
	}
	var ts []apitypes.Token
	r.json(t, &ts)
	if len(ts) != 2 {
		t.Errorf("%d tokens, want 2", len(ts))
	}
	e.expect(http.StatusForbidden, "bob", "DELETE", "/api/v1/users/alice/tokens/"+ct.Token.ID, nil)
	e.expect(http.StatusNoContent, "alice", "DELETE", "/api/v1/users/me/tokens/"+ct.Token.ID, nil)
	e.expect(http.StatusUnauthorized, "laptop", "GET", "/api/v1/users/me", nil)

	// Expiry.
	at := e.clock.Now().Add(time.Hour).Format(time.RFC3339)
	r = e.expect(http.StatusCreated, "alice", "POST", "/api/v1/users/me/tokens", apitypes.CreateTokenRequest{Name: "short", ExpiresAt: at})
	r.json(t, &ct)
	e.tokens["short"] = ct.Secret
	e.expect(http.StatusOK, "short", "GET", "/api/v1/users/me", nil)
	e.clock.Advance(time.Hour)
	e.expect(http.StatusUnauthorized, "short", "GET", "/api/v1/users/me", nil)
	e.expect(http.StatusBadRequest, "alice", "POST", "/api/v1/users/me/tokens", apitypes.CreateTokenRequest{Name: ""})
	// A site admin may mint a token for someone else.
	e.expect(http.StatusCreated, "root", "POST", "/api/v1/users/bob/tokens", apitypes.CreateTokenRequest{Name: "ci"})
	e.expect(http.StatusForbidden, "alice", "POST", "/api/v1/users/bob/tokens", apitypes.CreateTokenRequest{Name: "ci"})
}

func TestGroupsAndOrgs(t *testing.T) {
	e := basicEnv(t)
	e.expect(http.StatusForbidden, "alice", "POST", "/api/v1/groups", apitypes.CreateGroupRequest{Name: "g"})
	r := e.expect(http.StatusBadRequest, "root", "POST", "/api/v1/groups", apitypes.CreateGroupRequest{Name: "g", Members: []string{"alice", "ghost"}})
	if msg := r.apiError(t).Message; msg != `user "ghost" not found` {
		t.Errorf("message %q", msg)
	}
	r = e.expect(http.StatusCreated, "root", "POST", "/api/v1/groups", apitypes.CreateGroupRequest{Name: "g", Members: []string{"alice"}})
	var g apitypes.Group
	r.json(t, &g)
	if strings.Join(g.Members, ",") != "alice" {
		t.Errorf("members %v", g.Members)
	}
	r = e.expect(http.StatusOK, "root", "POST", "/api/v1/groups/g/members", apitypes.AddMemberRequest{User: "bob"})
	r.json(t, &g)
	if strings.Join(g.Members, ",") != "alice,bob" {
		t.Errorf("members %v", g.Members)
	}
	e.expect(http.StatusBadRequest, "root", "POST", "/api/v1/groups/g/members", apitypes.AddMemberRequest{User: "ghost"})
	e.expect(http.StatusNotFound, "root", "POST", "/api/v1/groups/nope/members", apitypes.AddMemberRequest{User: "bob"})
	e.expect(http.StatusForbidden, "alice", "DELETE", "/api/v1/groups/g/members/bob", nil)
	r = e.expect(http.StatusOK, "root", "DELETE", "/api/v1/groups/g/members/bob", nil)
	r.json(t, &g)
	if strings.Join(g.Members, ",") != "alice" {
		t.Errorf("members %v", g.Members)
	}
	// Everyone may read groups (to share with them).
	r = e.expect(http.StatusOK, "bob", "GET", "/api/v1/groups", nil)
	var gs []apitypes.Group
	r.json(t, &gs)
	if len(gs) != 1 {
		t.Errorf("groups %+v", gs)
	}
	e.expect(http.StatusOK, "bob", "GET", "/api/v1/groups/g", nil)
	e.expect(http.StatusForbidden, "alice", "DELETE", "/api/v1/groups/g", nil)
	e.expect(http.StatusNoContent, "root", "DELETE", "/api/v1/groups/g", nil)
	e.expect(http.StatusNotFound, "root", "GET", "/api/v1/groups/g", nil)

	e.expect(http.StatusForbidden, "alice", "POST", "/api/v1/orgs", apitypes.CreateOrgRequest{Name: "acme"})
	e.expect(http.StatusBadRequest, "root", "POST", "/api/v1/orgs", apitypes.CreateOrgRequest{Name: "acme", Sharing: "maybe"})
	r = e.expect(http.StatusCreated, "root", "POST", "/api/v1/orgs", apitypes.CreateOrgRequest{Name: "acme", Sharing: "disabled"})
	var o apitypes.Org
	r.json(t, &o)
	if o.Name != "acme" || o.Sharing != "disabled" {
		t.Errorf("org %+v", o)
	}
	e.expect(http.StatusOK, "root", "PATCH", "/api/v1/orgs/acme/settings", apitypes.SharingSetting{Sharing: "enabled"})
	r = e.expect(http.StatusOK, "bob", "GET", "/api/v1/orgs/acme/settings", nil)
	var s apitypes.SharingSetting
	r.json(t, &s)
	if s.Sharing != "enabled" {
		t.Errorf("setting %+v", s)
	}
	e.expect(http.StatusNotFound, "root", "PATCH", "/api/v1/orgs/nope/settings", apitypes.SharingSetting{Sharing: "enabled"})
	r = e.expect(http.StatusOK, "bob", "GET", "/api/v1/orgs", nil)
	var os []apitypes.Org
	r.json(t, &os)
	if len(os) != 1 {
		t.Errorf("orgs %+v", os)
	}
	e.expect(http.StatusBadRequest, "root", "POST", "/api/v1/users", apitypes.CreateUserRequest{Name: "x", Org: "nope"})
}

func TestDeployment(t *testing.T) {
	e := basicEnv(t)
	r := e.expect(http.StatusOK, "alice", "GET", "/api/v1/deployment", nil)
	var d apitypes.Deployment
	r.json(t, &d)
	if !reflect.DeepEqual(d, apitypes.Deployment{SSHAddr: "gw.example:2222", HostnameSuffix: "coder", AccessURL: "https://gw.example"}) {
		t.Errorf("deployment %+v", d)
	}
	e.expect(http.StatusUnauthorized, "", "GET", "/api/v1/deployment", nil)
}

// TestInfo: the entry points are told to anyone, without sign-in.
func TestInfo(t *testing.T) {
	e := basicEnv(t)
	for _, user := range []string{"", "alice"} {
		var info apitypes.Info
		e.expect(http.StatusOK, user, "GET", "/api/v1/info", nil).json(t, &info)
		if info != (apitypes.Info{AccessURL: "https://gw.example", SSHAddr: "gw.example:2222", HostnameSuffix: "coder"}) {
			t.Errorf("info as %q: %+v", user, info)
		}
	}
	e.expect(http.StatusMethodNotAllowed, "", "POST", "/api/v1/info", nil)
}
