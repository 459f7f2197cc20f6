package redisstore

import "github.com/wsgate/wsgate/acl"

// Workspaces and tokens are stored as storekit's records; grants carry one
// field more here.

// grantRecord is a grant as stored: expiring grants carry the key of their
// entry in the expiry index, which the scripts compare as text.
type grantRecord struct {
	acl.Grant
	ExpiryKey string `json:"expiry_key,omitempty"`
}

func toGrantRecord(g acl.Grant) grantRecord {
	r := grantRecord{Grant: g}
	if !g.ExpiresAt.IsZero() {
		r.ExpiryKey = nsKey(g.ExpiresAt)
	}
	return r
}
