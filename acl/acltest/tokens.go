package acltest

import (
	"time"

	"github.com/wsgate/wsgate/acl"
)

func tokenCases() []testCase {
	return []testCase{
		{"tokens/create_lookup_list_revoke", func(e *env) {
			e.user("bob")
			first := e.clock.Now()
			e.must(e.st.CreateToken(e.ctx, acl.Token{ID: "t2", User: "bob", Name: "laptop", Hash: "h2"}))
			e.clock.Advance(time.Second)
			exp := e.clock.Now().Add(24 * time.Hour)
			e.must(e.st.CreateToken(e.ctx, acl.Token{ID: "t1", User: "bob", Name: "ci", Hash: "h1", ExpiresAt: exp}))
			got, err := e.st.TokenByHash(e.ctx, "h1")
			e.must(err)
			t1 := acl.Token{ID: "t1", User: "bob", Name: "ci", Hash: "h1", CreatedAt: e.clock.Now(), ExpiresAt: exp}
			wantEqual(e.t, "TokenByHash", got, t1)
			ts, err := e.st.ListTokens(e.ctx, "bob")
			e.must(err)
			wantEqual(e.t, "ListTokens", ts, []acl.Token{{ID: "t2", User: "bob", Name: "laptop", Hash: "h2", CreatedAt: first}, t1})

			w := e.watch()
			e.must(e.st.RevokeToken(e.ctx, "bob", "t1"))
			w.expect(acl.Event{Kind: acl.EventTokenRevoked, User: "bob", TokenID: "t1"})
			_, err = e.st.TokenByHash(e.ctx, "h1")
			if !isNotFound(err) {
				e.t.Fatalf("revoked token: %v", err)
			}
			wantNotFound(e.t, e.st.RevokeToken(e.ctx, "bob", "t1"), "token", "t1")
			wantNotFound(e.t, e.st.RevokeToken(e.ctx, "ghost", "t2"), "user", "ghost")
			w.quiet()
			ts, err = e.st.ListTokens(e.ctx, "bob")
			e.must(err)
			wantEqual(e.t, "tokens left", names(ts, func(t acl.Token) string { return t.ID }), []string{"t2"})
		}},
		{"tokens/create_rejects", func(e *env) {
			e.users("bob", "carol")
			e.must(e.st.CreateToken(e.ctx, acl.Token{ID: "t1", User: "bob", Hash: "h1"}))
			wantConflict(e.t, e.st.CreateToken(e.ctx, acl.Token{ID: "t1", User: "bob", Hash: "h2"}), "token")
			wantConflict(e.t, e.st.CreateToken(e.ctx, acl.Token{ID: "t9", User: "carol", Hash: "h1"}), "token")
			wantNotFound(e.t, e.st.CreateToken(e.ctx, acl.Token{ID: "t3", User: "ghost", Hash: "h3"}), "user", "ghost")
			wantInvalid(e.t, e.st.CreateToken(e.ctx, acl.Token{User: "bob", Hash: "h4"}), "id")
			wantInvalid(e.t, e.st.CreateToken(e.ctx, acl.Token{ID: "t4", User: "bob"}), "hash")
			// The same ID under another user is fine.
			e.must(e.st.CreateToken(e.ctx, acl.Token{ID: "t1", User: "carol", Hash: "h5"}))
			for _, h := range []string{"h2", "h3", "h4"} {
				if _, err := e.st.TokenByHash(e.ctx, h); !isNotFound(err) {
					e.t.Fatalf("token %s after failed create: %v", h, err)
				}
			}
			_, err := e.st.ListTokens(e.ctx, "ghost")
			wantNotFound(e.t, err, "user", "ghost")
		}},
		{"tokens/expired_not_found", func(e *env) {
			e.user("bob")
			e.must(e.st.CreateToken(e.ctx, acl.Token{ID: "t1", User: "bob", Hash: "h1", ExpiresAt: e.clock.Now().Add(time.Minute)}))
			if _, err := e.st.TokenByHash(e.ctx, "h1"); err != nil {
				e.t.Fatalf("live token: %v", err)
			}
			e.clock.Advance(time.Minute)
			if _, err := e.st.TokenByHash(e.ctx, "h1"); !isNotFound(err) {
				e.t.Fatalf("expired token: %v", err)
			}
			ts, err := e.st.ListTokens(e.ctx, "bob")
			e.must(err)
			wantEqual(e.t, "expired tokens stay listed", len(ts), 1)
		}},
	}
}
