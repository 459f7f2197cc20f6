package apitypes

import "github.com/wsgate/wsgate/acl"

// User is a user as the API shows it.
type User = acl.User

// PublicKey is one SSH key of a user.
type PublicKey = acl.PublicKey

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	Org         string `json:"org,omitempty"`
	SiteAdmin   bool   `json:"site_admin,omitempty"`
	// Keys are SSH public keys in authorized_keys format.
	Keys []string `json:"keys,omitempty"`
}

// UpdateUserRequest is the body of PATCH /api/v1/users/{name}.
type UpdateUserRequest struct {
	SiteAdmin *bool `json:"site_admin,omitempty"`
}

// AddKeyRequest is the body of POST /api/v1/users/{name}/keys.
type AddKeyRequest struct {
	AuthorizedKey string `json:"authorized_key"`
	// Challenge and Signature prove the caller holds the key's private key;
	// required when adding to one's own account (see KeyChallenge).
	Challenge string `json:"challenge,omitempty"`
	// Signature is an armored SSH signature (ssh-keygen -Y sign, namespace
	// KeyProofNamespace) over Challenge.
	Signature string `json:"signature,omitempty"`
}
