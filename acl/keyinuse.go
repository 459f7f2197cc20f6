package acl

import "errors"

// ErrKeyInUse is a key refused because another user holds it. Its message
// never names that user: a key's owner is nobody else's business, and
// saying it would let anyone map public keys to accounts.
var ErrKeyInUse = errors.New("this key is registered to another account")

// KeyInUse is the *ConflictError a store returns when a key with
// fingerprint fp is added to one user while another holds it. It matches
// both ErrConflict and ErrKeyInUse.
func KeyInUse(fp string) error {
	return &ConflictError{Kind: "key", Name: fp, Detail: ErrKeyInUse.Error(), Err: ErrKeyInUse}
}
