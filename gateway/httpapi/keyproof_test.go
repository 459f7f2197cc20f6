package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/testutil"
)

// newSignerKey returns a fresh ed25519 key: its signer, authorized_keys
// line and fingerprint.
func newSignerKey(t *testing.T) (ssh.Signer, string, string) {
	t.Helper()
	s := testutil.NewSigner(t)
	return s, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.PublicKey()))), ssh.FingerprintSHA256(s.PublicKey())
}

// challenge asks for a challenge as caller for key on target's account.
func (e *env) challenge(caller, target, key string) apitypes.KeyChallenge {
	e.t.Helper()
	var c apitypes.KeyChallenge
	e.expect(http.StatusOK, caller, "POST", "/api/v1/users/"+target+"/keys/challenge",
		apitypes.KeyChallengeRequest{AuthorizedKey: key}).json(e.t, &c)
	return c
}

// sign makes the armored SSH signature of msg in namespace ns.
func sign(t *testing.T, s ssh.Signer, msg, ns string) string {
	t.Helper()
	sig, err := sshsig.Sign(strings.NewReader(msg), s, sshsig.HashSHA512, ns)
	if err != nil {
		t.Fatal(err)
	}
	return string(sshsig.Armor(sig))
}

// proveKey gets a challenge as caller for key on target's account and
// signs it with signer, as the CLI does.
func (e *env) proveKey(caller, target, key string, signer ssh.Signer) apitypes.AddKeyRequest {
	e.t.Helper()
	c := e.challenge(caller, target, key)
	return apitypes.AddKeyRequest{AuthorizedKey: key, Challenge: c.Challenge, Signature: sign(e.t, signer, c.Challenge, c.Namespace)}
}

func (e *env) wantNoKeys(user string) {
	e.t.Helper()
	if u, err := e.store.GetUser(e.ctx(), user); err != nil || len(u.Keys) != 0 {
		e.t.Fatalf("%s's keys after a refused add: %+v (%v)", user, u.Keys, err)
	}
}

func TestKeyProofChallenge(t *testing.T) {
	e := basicEnv(t)
	_, key, fp := newSignerKey(t)
	c := e.challenge("alice", "me", key)
	if c.User != "alice" || c.Fingerprint != fp || c.Namespace != apitypes.KeyProofNamespace || !c.ProofRequired || c.Challenge == "" {
		t.Fatalf("challenge %+v", c)
	}
	if want := e.clock.Now().Add(5 * time.Minute); !c.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", c.ExpiresAt, want)
	}
	// A site admin adding for someone else needs no proof, and is told so.
	if c := e.challenge("root", "alice", key); c.ProofRequired || c.User != "alice" {
		t.Errorf("site admin's challenge for alice %+v", c)
	}
	if c := e.challenge("root", "me", key); !c.ProofRequired {
		t.Error("site admin's own challenge does not require proof")
	}
	e.expect(http.StatusForbidden, "bob", "POST", "/api/v1/users/alice/keys/challenge", apitypes.KeyChallengeRequest{AuthorizedKey: key})
	e.expect(http.StatusBadRequest, "alice", "POST", "/api/v1/users/me/keys/challenge", apitypes.KeyChallengeRequest{AuthorizedKey: "nonsense"})
	e.expect(http.StatusNotFound, "root", "POST", "/api/v1/users/nobody/keys/challenge", apitypes.KeyChallengeRequest{AuthorizedKey: key})
}

func TestKeyProof(t *testing.T) {
	e := basicEnv(t)
	signer, key, fp := newSignerKey(t)
	otherSigner, otherKey, _ := newSignerKey(t)
	add := func(status int, caller string, req apitypes.AddKeyRequest, mention string) {
		t.Helper()
		r := e.expect(status, caller, "POST", "/api/v1/users/me/keys", req)
		if msg := r.apiError(t).Message; !strings.Contains(msg, mention) {
			t.Fatalf("error %q does not mention %q", msg, mention)
		}
	}
	good := e.proveKey("alice", "me", key, signer)
	withSig := func(sig string) apitypes.AddKeyRequest { r := good; r.Signature = sig; return r }

	add(http.StatusForbidden, "alice", apitypes.AddKeyRequest{AuthorizedKey: key}, "proof that you hold its private key")
	add(http.StatusForbidden, "alice", withSig(""), "proof that you hold its private key")
	add(http.StatusForbidden, "alice", withSig(sign(t, otherSigner, good.Challenge, apitypes.KeyProofNamespace)), "not with the key being added")
	add(http.StatusForbidden, "alice", withSig(sign(t, signer, good.Challenge, "git")), "namespace")
	add(http.StatusForbidden, "alice", withSig(sign(t, signer, good.Challenge+"x", apitypes.KeyProofNamespace)), "does not verify")
	add(http.StatusBadRequest, "alice", withSig("not a signature"), "armored SSH signature")
	// A challenge for another key, or issued to another user, is refused
	// even when properly signed.
	forOther := e.proveKey("alice", "me", otherKey, otherSigner)
	forOther.AuthorizedKey = key
	forOther.Signature = sign(t, signer, forOther.Challenge, apitypes.KeyProofNamespace)
	add(http.StatusForbidden, "alice", forOther, "not issued for user")
	bobs := e.proveKey("bob", "me", key, signer)
	add(http.StatusForbidden, "alice", bobs, "not issued for user")
	// Expired.
	old := e.proveKey("alice", "me", key, signer)
	e.clock.Advance(5 * time.Minute)
	add(http.StatusForbidden, "alice", old, "expired")
	e.wantNoKeys("alice")

	// A good proof adds the key; so does one over the challenge with the
	// newline a file saved by hand ends in.
	good = e.proveKey("alice", "me", key, signer)
	var k apitypes.PublicKey
	e.expect(http.StatusCreated, "alice", "POST", "/api/v1/users/me/keys", good).json(t, &k)
	if k.Fingerprint != fp {
		t.Fatalf("added %+v", k)
	}
	c := e.challenge("bob", "me", otherKey)
	e.expect(http.StatusCreated, "bob", "POST", "/api/v1/users/bob/keys", apitypes.AddKeyRequest{
		AuthorizedKey: otherKey, Challenge: c.Challenge + "\n", Signature: sign(t, otherSigner, c.Challenge+"\n", c.Namespace)})
}

func TestKeyProofSiteAdmin(t *testing.T) {
	e := basicEnv(t)
	signer, key, _ := newSignerKey(t)
	_, aliceKey, aliceFP := newSignerKey(t)
	// For another user: no proof.
	e.expect(http.StatusCreated, "root", "POST", "/api/v1/users/alice/keys", apitypes.AddKeyRequest{AuthorizedKey: aliceKey})
	if u, err := e.store.UserByKeyFingerprint(e.ctx(), aliceFP); err != nil || u.Name != "alice" {
		t.Fatalf("alice's key belongs to %q (%v)", u.Name, err)
	}
	// For their own account, site admins prove like everyone.
	e.expect(http.StatusForbidden, "root", "POST", "/api/v1/users/me/keys", apitypes.AddKeyRequest{AuthorizedKey: key})
	e.expect(http.StatusForbidden, "root", "POST", "/api/v1/users/root/keys", apitypes.AddKeyRequest{AuthorizedKey: key})
	e.wantNoKeys("root")
	e.expect(http.StatusCreated, "root", "POST", "/api/v1/users/root/keys", e.proveKey("root", "root", key, signer))
}

func TestKeyInUse(t *testing.T) {
	e := basicEnv(t)
	e.user("mallory")
	signer, key, _ := newSignerKey(t)
	e.expect(http.StatusCreated, "alice", "POST", "/api/v1/users/me/keys", e.proveKey("alice", "me", key, signer))
	// Even holding the private key (a copy), another user cannot register
	// it, and the answer does not say whose it is.
	for _, r := range []response{
		e.expect(http.StatusConflict, "mallory", "POST", "/api/v1/users/me/keys", e.proveKey("mallory", "me", key, signer)),
		e.expect(http.StatusConflict, "root", "POST", "/api/v1/users/mallory/keys", apitypes.AddKeyRequest{AuthorizedKey: key}),
		e.expect(http.StatusConflict, "root", "POST", "/api/v1/users", apitypes.CreateUserRequest{Name: "eve", Keys: []string{key}}),
	} {
		msg := r.apiError(t).Message
		if !strings.Contains(msg, "registered to another account") || strings.Contains(string(r.body), "alice") {
			t.Errorf("conflict body %s: want 'registered to another account' and no owner name", r.body)
		}
	}
	e.wantNoKeys("mallory")
	// Re-adding one's own key is the plain conflict it was.
	r := e.expect(http.StatusConflict, "alice", "POST", "/api/v1/users/me/keys", e.proveKey("alice", "me", key, signer))
	if strings.Contains(r.apiError(t).Message, "another account") {
		t.Errorf("re-adding one's own key: %s", r.body)
	}
}
