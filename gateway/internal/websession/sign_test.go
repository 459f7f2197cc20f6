package websession

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/acl/filestore"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openStore(t *testing.T) *filestore.Store {
	t.Helper()
	st, err := filestore.Open(filepath.Join(t.TempDir(), "acl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestSignVerifyRedeem(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	c := &clock{t: time.Unix(1_900_000_000, 0)}
	s := New(st, c.now)
	claims := Claims{Kind: KindAppCode, User: "carol", TokenHash: "h", Host: "80--ws--alice.apps.test", State: "st"}
	code, exp, err := s.Sign(ctx, claims, AppCodeTTL, c.t.Add(time.Hour))
	if err != nil || !exp.Equal(c.t.Add(AppCodeTTL)) {
		t.Fatalf("sign: %v, expires %v", err, exp)
	}
	// Capped by the credential.
	if _, exp2, _ := s.Sign(ctx, claims, AppCodeTTL, c.t.Add(time.Second)); !exp2.Equal(c.t.Add(time.Second)) {
		t.Fatalf("expiry %v not capped by the token's", exp2)
	}
	got, err := s.Verify(ctx, code, KindAppCode)
	if err != nil || got.User != "carol" || got.Host != claims.Host || got.State != "st" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if _, err := s.Verify(ctx, code, KindTicket); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another kind: %v", err)
	}
	tampered := []byte(code)
	tampered[3] ^= 1
	if _, err := s.Verify(ctx, string(tampered), KindAppCode); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tampered: %v", err)
	}
	other := New(openStore(t), c.now) // another deployment's key
	if _, err := other.Verify(ctx, code, KindAppCode); !errors.Is(err, ErrInvalid) {
		t.Fatalf("another key: %v", err)
	}
	// A second replica of the same store accepts it.
	if _, err := New(st, c.now).Verify(ctx, code, KindAppCode); err != nil {
		t.Fatalf("another replica: %v", err)
	}
	if _, err := s.Redeem(ctx, code, KindAppCode); err != nil {
		t.Fatalf("first redeem: %v", err)
	}
	if _, err := s.Redeem(ctx, code, KindAppCode); !errors.Is(err, ErrUsed) {
		t.Fatalf("second redeem: %v", err)
	}
	// The store records the use: another replica refuses it too.
	if _, err := New(st, c.now).Redeem(ctx, code, KindAppCode); !errors.Is(err, ErrUsed) {
		t.Fatalf("redeemed again on another replica: %v", err)
	}
	code2, _, _ := s.Sign(ctx, claims, AppCodeTTL, time.Time{})
	c.t = c.t.Add(AppCodeTTL)
	if _, err := s.Redeem(ctx, code2, KindAppCode); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
}

func TestLiveAndFromRequest(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Now()
	if err := st.CreateUser(ctx, acl.User{Name: "carol"}); err != nil {
		t.Fatal(err)
	}
	secret := acl.NewSecret(acl.APITokenPrefix)
	tok := acl.Token{ID: acl.NewID(), User: "carol", Name: "t", Hash: acl.HashToken(secret), CreatedAt: now}
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	s := New(st, nil)
	v, _, err := s.Sign(ctx, Claims{Kind: KindSession, User: "carol", TokenHash: tok.Hash}, SessionTTL, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	req := func(mod func(*httptestReq)) error {
		r := httptest.NewRequest("GET", "http://gw.test/api/v1/users/me", nil)
		hr := &httptestReq{cookie: v, csrf: "1"}
		if mod != nil {
			mod(hr)
		}
		if hr.cookie != "" {
			r.Header.Add("Cookie", SessionCookie+"="+hr.cookie)
		}
		if hr.csrf != "" {
			r.Header.Set(CSRFHeader, hr.csrf)
		}
		if hr.origin != "" {
			r.Header.Set("Origin", hr.origin)
		}
		_, u, got, err := s.FromRequest(r, st, "http")
		if id := Identity(u, got); err == nil && (id.User != "carol" || id.TokenID != tok.ID) {
			t.Fatalf("identity %+v", id)
		}
		return err
	}
	if err := req(nil); err != nil {
		t.Fatalf("good session: %v", err)
	}
	if err := req(func(h *httptestReq) { h.origin = "http://gw.test" }); err != nil {
		t.Fatalf("same origin: %v", err)
	}
	for name, c := range map[string]struct {
		mod  func(*httptestReq)
		want error
	}{
		"no cookie":      {func(h *httptestReq) { h.cookie = "" }, ErrNoSession},
		"no csrf header": {func(h *httptestReq) { h.csrf = "" }, ErrCSRF},
		"foreign origin": {func(h *httptestReq) { h.origin = "http://1--a--b.apps.test" }, ErrCSRF},
		"forged":         {func(h *httptestReq) { h.cookie = "eyJrIjoic2Vzc2lvbiJ9.AAAA" }, acl.ErrBadToken},
	} {
		if err := req(c.mod); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Revoking the token ends the session.
	if err := st.RevokeToken(ctx, "carol", tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := req(nil); !errors.Is(err, acl.ErrBadToken) {
		t.Fatalf("after revoke: %v", err)
	}
}

type httptestReq struct{ cookie, csrf, origin string }
