package acltest

import (
	"bytes"
	"errors"
	"strings"
	"sync"

	"github.com/wsgate/wsgate/acl"
)

// wantKeyInUse checks err is the conflict for a key another user holds,
// and that it names no user.
func wantKeyInUse(e *env, err error, users ...string) {
	e.t.Helper()
	wantConflict(e.t, err, "key")
	if !errors.Is(err, acl.ErrKeyInUse) {
		e.t.Fatalf("got %v, want acl.ErrKeyInUse", err)
	}
	for _, u := range users {
		if strings.Contains(err.Error(), u) {
			e.t.Fatalf("key-in-use error %q names user %q", err, u)
		}
	}
}

func keyOwnerCases() []testCase {
	return []testCase{
		{"keys/owner/squat_refused", func(e *env) {
			e.users("dave", "mallory")
			e.must(e.st.AddUserKey(e.ctx, "dave", key("k1")))
			wantKeyInUse(e, e.st.AddUserKey(e.ctx, "mallory", key("k1")), "dave", "mallory")
			wantKeyInUse(e, e.st.CreateUser(e.ctx, acl.User{Name: "eve", Keys: []acl.PublicKey{key("k1")}}), "dave")
			wantEqual(e.t, "mallory's keys", len(e.getUser("mallory").Keys), 0)
			u, err := e.st.UserByKeyFingerprint(e.ctx, key("k1").Fingerprint)
			e.must(err)
			wantEqual(e.t, "owner", u.Name, "dave")
		}},
		{"keys/owner/same_user_readd_is_plain_conflict", func(e *env) {
			e.user("dave")
			e.must(e.st.AddUserKey(e.ctx, "dave", key("k1")))
			err := e.st.AddUserKey(e.ctx, "dave", key("k1"))
			wantConflict(e.t, err, "key")
			if errors.Is(err, acl.ErrKeyInUse) {
				e.t.Fatalf("re-adding one's own key says another account holds it: %v", err)
			}
			wantEqual(e.t, "dave's keys", len(e.getUser("dave").Keys), 1)
		}},
		{"keys/owner/remove_frees", func(e *env) {
			e.users("dave", "mallory")
			e.must(e.st.AddUserKey(e.ctx, "mallory", key("k1")))
			e.must(e.st.RemoveUserKey(e.ctx, "mallory", key("k1").Fingerprint))
			e.must(e.st.AddUserKey(e.ctx, "dave", key("k1")))
			u, err := e.st.UserByKeyFingerprint(e.ctx, key("k1").Fingerprint)
			e.must(err)
			wantEqual(e.t, "owner", u.Name, "dave")
		}},
		{"keys/owner/delete_user_frees", func(e *env) {
			e.users("dave", "mallory")
			e.must(e.st.AddUserKey(e.ctx, "mallory", key("k1")))
			e.must(e.st.AddUserKey(e.ctx, "mallory", key("k2")))
			e.must(e.st.DeleteUser(e.ctx, "mallory"))
			e.must(e.st.AddUserKey(e.ctx, "dave", key("k1")))
			e.must(e.st.CreateUser(e.ctx, acl.User{Name: "erin", Keys: []acl.PublicKey{key("k2")}}))
			u, err := e.st.UserByKeyFingerprint(e.ctx, key("k2").Fingerprint)
			e.must(err)
			wantEqual(e.t, "owner of k2", u.Name, "erin")
		}},
		{"secrets/get_or_create", func(e *env) {
			a, err := e.st.Secret(e.ctx, "key-proof")
			e.must(err)
			if len(a) != 32 || bytes.Equal(a, make([]byte, 32)) {
				e.t.Fatalf("secret %x: want 32 random bytes", a)
			}
			again, err := e.st.Secret(e.ctx, "key-proof")
			e.must(err)
			wantEqual(e.t, "same name, same secret", again, a)
			other, err := e.st.Secret(e.ctx, "agent-nonce")
			e.must(err)
			if bytes.Equal(other, a) {
				e.t.Fatal("two names share one secret")
			}
			_, err = e.st.Secret(e.ctx, "Bad Name")
			wantInvalid(e.t, err, "name")
			e.st = e.h.Reopen(e.t, e.st, e.clock.Now)
			after, err := e.st.Secret(e.ctx, "key-proof")
			e.must(err)
			wantEqual(e.t, "secret after reopen", after, a)
		}},
		{"secrets/racing_callers_agree", func(e *env) {
			const n = 8
			got := make([][]byte, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { got[i], errs[i] = e.st.Secret(e.ctx, "race") })
			}
			wg.Wait()
			for i := range n {
				e.must(errs[i])
				wantEqual(e.t, "secret seen by caller", got[i], got[0])
			}
		}},
	}
}
