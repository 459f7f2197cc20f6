package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"github.com/wsgate/wsgate/acl"
	"github.com/wsgate/wsgate/gateway/apitypes"
	"github.com/wsgate/wsgate/internal/nonce"
)

// Key proofs: a user adding a key to their own account signs a challenge
// with it, so nobody can claim another person's public key (which is
// public) and receive that person's connections. Site admins adding keys
// for others are trusted to have checked the key out of band.
const (
	keyProofPurpose = "key-proof"
	// keyProofSecret names the store secret the challenges are keyed by:
	// shared by every replica and kept across restarts.
	keyProofSecret = "key-proof"
	keyProofTTL    = 5 * time.Minute
)

// keyProofs holds the challenge issuer, made on first use from the store's
// secret (a store that is down at start does not stop the API).
type keyProofs struct {
	store acl.Store
	now   func() time.Time

	mu  sync.Mutex
	iss *nonce.Issuer
}

func (p *keyProofs) issuer(ctx context.Context) (*nonce.Issuer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.iss != nil {
		return p.iss, nil
	}
	secret, err := p.store.Secret(ctx, keyProofSecret)
	if err != nil {
		return nil, fmt.Errorf("key proof secret: %w", err)
	}
	iss, err := nonce.New(secret, p.now)
	if err != nil {
		return nil, err
	}
	p.iss = iss
	return iss, nil
}

// binding ties a challenge to one user and one key.
func keyProofBinding(user, fingerprint string) []byte {
	return []byte(user + "\x00" + fingerprint)
}

// proofRequired says whether caller must prove holding a key added to
// user's account: always for their own account, site admin or not.
func proofRequired(caller acl.User, user string) bool { return caller.Name == user }

func (a *api) keyChallenge(w http.ResponseWriter, r *http.Request, caller acl.User) error {
	name := userParam(r, caller, "user")
	if err := requireSelfOrSiteAdmin(caller, name, "change the keys"); err != nil {
		return err
	}
	var req apitypes.KeyChallengeRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	pk, err := parseAuthorizedKey(req.AuthorizedKey)
	if err != nil {
		return invalidField("authorized_key", "%v", err)
	}
	if _, err := a.store.GetUser(r.Context(), name); err != nil {
		return err
	}
	iss, err := a.proofs.issuer(r.Context())
	if err != nil {
		return err
	}
	now := a.now()
	writeJSON(w, http.StatusOK, apitypes.KeyChallenge{
		Challenge:     iss.Issue(keyProofPurpose, keyProofBinding(name, pk.Fingerprint), keyProofTTL),
		Namespace:     apitypes.KeyProofNamespace,
		User:          name,
		Fingerprint:   pk.Fingerprint,
		ExpiresAt:     now.Add(keyProofTTL).UTC().Truncate(time.Second),
		ProofRequired: proofRequired(caller, name),
	})
	return nil
}

// checkKeyProof verifies that req carries a live challenge for user and
// pk, signed by pk's private key. Every failure changes nothing.
func (a *api) checkKeyProof(ctx context.Context, user string, pk acl.PublicKey, req apitypes.AddKeyRequest) error {
	if req.Challenge == "" || req.Signature == "" {
		return errorf(http.StatusForbidden, "adding a key to your own account needs proof that you hold its private key: "+
			"get a challenge (POST /api/v1/users/%s/keys/challenge), sign it with ssh-keygen -Y sign -n %s, "+
			"and send challenge and signature with the key (wsgate users keys add does this for you)",
			user, apitypes.KeyProofNamespace)
	}
	iss, err := a.proofs.issuer(ctx)
	if err != nil {
		return err
	}
	// A challenge saved to a file and signed there usually ends in a newline.
	challenge := strings.TrimSpace(req.Challenge)
	switch err := iss.Verify(challenge, keyProofPurpose, keyProofBinding(user, pk.Fingerprint)); {
	case errors.Is(err, nonce.ErrExpired):
		return errorf(http.StatusForbidden, "key proof: the challenge has expired (they last %s); get a new one", keyProofTTL)
	case err != nil:
		return errorf(http.StatusForbidden, "key proof: the challenge was not issued for user %q and key %s; get one for this key", user, pk.Fingerprint)
	}
	sig, err := sshsig.Unarmor([]byte(req.Signature))
	if err != nil {
		return invalidField("signature", "key proof: signature is not an armored SSH signature (ssh-keygen -Y sign): %v", err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pk.AuthorizedKey))
	if err != nil {
		return fmt.Errorf("reparse key: %w", err)
	}
	err = sshsig.Verify(strings.NewReader(challenge), sig, pub, sig.HashAlgorithm, apitypes.KeyProofNamespace)
	if err != nil && !errors.Is(err, sshsig.ErrPublicKeyMismatch) && !errors.Is(err, sshsig.ErrNamespaceMismatch) {
		err = sshsig.Verify(strings.NewReader(challenge+"\n"), sig, pub, sig.HashAlgorithm, apitypes.KeyProofNamespace)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sshsig.ErrPublicKeyMismatch):
		return errorf(http.StatusForbidden, "key proof: the signature was made with key %s, not with the key being added (%s)",
			ssh.FingerprintSHA256(sig.PublicKey), pk.Fingerprint)
	case errors.Is(err, sshsig.ErrNamespaceMismatch):
		return errorf(http.StatusForbidden, "key proof: the signature is for namespace %q, want %q (ssh-keygen -Y sign -n %s)",
			sig.Namespace, apitypes.KeyProofNamespace, apitypes.KeyProofNamespace)
	default:
		return errorf(http.StatusForbidden, "key proof: the signature does not verify over the challenge: %v", err)
	}
}
