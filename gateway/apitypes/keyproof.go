package apitypes

import "time"

// KeyProofNamespace is the SSH signature namespace of a key proof:
// ssh-keygen -Y sign -n KeyProofNamespace. A signature made for any other
// use (git commits, files) never passes for a proof.
const KeyProofNamespace = "wsgate-key-proof@wsgate"

// KeyChallengeRequest is the body of POST /api/v1/users/{name}/keys/challenge.
type KeyChallengeRequest struct {
	AuthorizedKey string `json:"authorized_key"`
}

// KeyChallenge is a short-lived challenge bound to one user and one key.
// Sign Challenge (exactly, or followed by one newline) with the key's
// private key in namespace Namespace and send both with AddKeyRequest.
type KeyChallenge struct {
	Challenge   string    `json:"challenge"`
	Namespace   string    `json:"namespace"`
	User        string    `json:"user"`
	Fingerprint string    `json:"fingerprint"`
	ExpiresAt   time.Time `json:"expires_at"`
	// ProofRequired is false when a site admin adds a key to another
	// user's account: then no proof is asked for.
	ProofRequired bool `json:"proof_required"`
}
