package apitypes

import "github.com/wsgate/wsgate/acl"

// Token is an API token's metadata; the secret is never shown again.
type Token = acl.Token

// CreateTokenRequest is the body of POST /api/v1/users/{name}/tokens.
type CreateTokenRequest struct {
	Name string `json:"name"`
	// ExpiresAt (RFC 3339) is optional; no expiry when empty.
	ExpiresAt string `json:"expires_at,omitempty"`
}

// CreateTokenResponse carries the secret, shown only here.
type CreateTokenResponse struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}
