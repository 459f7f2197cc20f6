package storekit

import (
	"fmt"
	"slices"
	"time"

	"github.com/wsgate/wsgate/acl"
)

// ValidName wraps acl.ValidateName as an *acl.InvalidError.
func ValidName(kind, name string) error {
	if err := acl.ValidateName(kind, name); err != nil {
		return &acl.InvalidError{Field: kind, Detail: err.Error()}
	}
	return nil
}

// ValidOptionalName accepts "" (no org, for example) or a valid name.
func ValidOptionalName(kind, name string) error {
	if name == "" {
		return nil
	}
	return ValidName(kind, name)
}

// ValidKey checks that a public key has a fingerprint and a key.
func ValidKey(k acl.PublicKey) error {
	if k.Fingerprint == "" {
		return acl.Invalid("fingerprint", "key fingerprint is empty")
	}
	if k.AuthorizedKey == "" {
		return acl.Invalid("authorized_key", "key %s has no authorized_key", k.Fingerprint)
	}
	return nil
}

// ValidState checks a workspace state.
func ValidState(s acl.WorkspaceState) error {
	if !s.Valid() {
		return acl.Invalid("state", "invalid workspace state %q", s)
	}
	return nil
}

// ValidID checks both names of a workspace id.
func ValidID(id acl.WorkspaceID) error {
	if err := ValidName("user", id.Owner); err != nil {
		return err
	}
	return ValidName("workspace", id.Name)
}

// Grant expiries must fit in int64 Unix nanoseconds, which the Redis
// backend's expiry index needs; both backends share the bound.
var (
	MinExpiry = time.Unix(0, 0)
	MaxExpiry = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ValidChanges checks a grant batch on its own: kinds, names, roles,
// expiries, the owner, and that no subject is named twice.
func ValidChanges(id acl.WorkspaceID, changes []acl.GrantChange) error {
	seen := make(map[string]bool, len(changes))
	for _, c := range changes {
		if c.Kind != acl.SubjectUser && c.Kind != acl.SubjectGroup {
			return acl.Invalid("kind", "invalid subject kind %d for %q", c.Kind, c.Subject)
		}
		if err := ValidName(c.Kind.String(), c.Subject); err != nil {
			return err
		}
		if c.Role != acl.RoleNone && !c.Role.Grantable() {
			return acl.Invalid("role", "invalid role %q for %s %q: expected use or admin", c.Role, c.Kind, c.Subject)
		}
		if !c.ExpiresAt.IsZero() && (c.ExpiresAt.Before(MinExpiry) || !c.ExpiresAt.Before(MaxExpiry)) {
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

// The CheckNew functions are the checks a create makes before it touches
// the store, the same in every backend.

// CheckNewUser checks a user's name, org and keys, no fingerprint twice.
func CheckNewUser(u acl.User) error {
	if err := ValidName("user", u.Name); err != nil {
		return err
	}
	if err := ValidOptionalName("org", u.Org); err != nil {
		return err
	}
	seen := make(map[string]bool, len(u.Keys))
	for _, k := range u.Keys {
		if err := ValidKey(k); err != nil {
			return err
		}
		if seen[k.Fingerprint] {
			return &acl.ConflictError{Kind: "key", Name: k.Fingerprint, Detail: "listed twice"}
		}
		seen[k.Fingerprint] = true
	}
	return nil
}

// CheckNewGroup checks a group's name and org and returns its members
// sorted, each once. Whether the members exist is the store's to check.
func CheckNewGroup(g acl.Group) ([]string, error) {
	if err := ValidName("group", g.Name); err != nil {
		return nil, err
	}
	if err := ValidOptionalName("org", g.Org); err != nil {
		return nil, err
	}
	members := slices.Clone(g.Members)
	slices.Sort(members)
	return slices.Compact(members), nil
}

// CheckNewWorkspace checks a workspace's id, UID, org and state, and
// returns it with an empty State made stopped and an empty UID assigned.
// Whether the UID is in use is the store's to check.
func CheckNewWorkspace(ws acl.Workspace) (acl.Workspace, error) {
	if err := ValidID(ws.ID()); err != nil {
		return ws, err
	}
	if ws.UID == "" {
		ws.UID = acl.NewID()
	} else if err := acl.ValidateUID(ws.UID); err != nil {
		return ws, &acl.InvalidError{Field: "uid", Detail: err.Error()}
	}
	if err := ValidOptionalName("org", ws.Org); err != nil {
		return ws, err
	}
	if ws.State == "" {
		ws.State = acl.StateStopped
	}
	if err := ws.Settings.Validate(); err != nil {
		return ws, err
	}
	return ws, ValidState(ws.State)
}

// CheckNewToken checks that a token has an id and a hash and that its user
// could exist.
func CheckNewToken(t acl.Token) error {
	if t.ID == "" {
		return acl.Invalid("id", "token id is empty")
	}
	if t.Hash == "" {
		return acl.Invalid("hash", "token hash is empty")
	}
	return LookupName("user", t.User)
}
