package acl

import "fmt"

// MaxUIDLen bounds a workspace UID.
const MaxUIDLen = 64

// ValidateUID checks a caller-given workspace UID: 1 to MaxUIDLen bytes of
// printable ASCII without spaces, so that it can sit in keys, logs and
// URLs unquoted. Stores generate UIDs with NewID, which always passes.
func ValidateUID(uid string) error {
	if uid == "" {
		return fmt.Errorf("workspace uid is empty")
	}
	if len(uid) > MaxUIDLen {
		return fmt.Errorf("workspace uid %q is longer than %d bytes", uid, MaxUIDLen)
	}
	for i := 0; i < len(uid); i++ {
		if c := uid[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("workspace uid %q may hold only printable ASCII without spaces", uid)
		}
	}
	return nil
}
