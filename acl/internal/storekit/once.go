package storekit

import "github.com/wsgate/wsgate/acl"

// CheckOnceID refuses an empty, oversize or unprintable OnceStore id.
func CheckOnceID(id string) error {
	if id == "" || len(id) > acl.MaxOnceIDLen {
		return acl.Invalid("once id", "once id must be 1 to %d bytes", acl.MaxOnceIDLen)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return acl.Invalid("once id", "once id must be printable ASCII without spaces")
		}
	}
	return nil
}
