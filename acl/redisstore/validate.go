package redisstore

import (
	"fmt"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// validName wraps acl.ValidateName as an *acl.InvalidError.
func validName(kind, name string) error {
	if err := acl.ValidateName(kind, name); err != nil {
		return &acl.InvalidError{Field: kind, Detail: err.Error()}
	}
	return nil
}

// validOptionalName accepts "" (no org, for example) or a valid name.
func validOptionalName(kind, name string) error {
	if name == "" {
		return nil
	}
	return validName(kind, name)
}

func validKey(k acl.PublicKey) error {
	if k.Fingerprint == "" {
		return acl.Invalid("fingerprint", "key fingerprint is empty")
	}
	if k.AuthorizedKey == "" {
		return acl.Invalid("authorized_key", "key %s has no authorized_key", k.Fingerprint)
	}
	return nil
}

func validState(s acl.WorkspaceState) error {
	if !s.Valid() {
		return acl.Invalid("state", "invalid workspace state %q", s)
	}
	return nil
}

// Grant expiries must fit in int64 Unix nanoseconds, which the Redis
// backend's expiry index needs; both backends share the bound.
var (
	minExpiry = time.Unix(0, 0)
	maxExpiry = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// validChanges checks a grant batch on its own: kinds, names, roles, the
// owner, and that no subject is named twice.
func validChanges(id acl.WorkspaceID, changes []acl.GrantChange) error {
	seen := make(map[string]bool, len(changes))
	for _, c := range changes {
		if c.Kind != acl.SubjectUser && c.Kind != acl.SubjectGroup {
			return acl.Invalid("kind", "invalid subject kind %d for %q", c.Kind, c.Subject)
		}
		if err := validName(c.Kind.String(), c.Subject); err != nil {
			return err
		}
		if c.Role != acl.RoleNone && !c.Role.Grantable() {
			return acl.Invalid("role", "invalid role %q for %s %q: expected use or admin", c.Role, c.Kind, c.Subject)
		}
		if !c.ExpiresAt.IsZero() && (c.ExpiresAt.Before(minExpiry) || !c.ExpiresAt.Before(maxExpiry)) {
			return acl.Invalid("expires_at", "expires_at %s for %s %q is out of range", c.ExpiresAt.Format(time.RFC3339), c.Kind, c.Subject)
		}
		if c.Kind == acl.SubjectUser && c.Subject == id.Owner {
			return acl.Invalid("subject", "user %q owns %s and cannot be given a role on it", c.Subject, id)
		}
		k := fmt.Sprintf("%s:%s", c.Kind, c.Subject)
		if seen[k] {
			return acl.Invalid("subject", "%s %q is named twice", c.Kind, c.Subject)
		}
		seen[k] = true
	}
	return nil
}

func validID(id acl.WorkspaceID) error {
	if err := validName("user", id.Owner); err != nil {
		return err
	}
	return validName("workspace", id.Name)
}
