package acl

import "fmt"

// Role is what a subject may do on one workspace. Roles are ordered, so the
// effective role is simply the maximum of every grant that applies.
type Role uint8

const (
	RoleNone  Role = iota // no access at all
	RoleUse               // connect, start, stop, view
	RoleAdmin             // use, plus update, rename and share use grants
	RoleOwner             // everything; never stored as a grant
)

// String returns the name used in the API and the CLI.
func (r Role) String() string {
	switch r {
	case RoleNone:
		return ""
	case RoleUse:
		return "use"
	case RoleAdmin:
		return "admin"
	case RoleOwner:
		return "owner"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// ParseGrantRole parses a role that may be granted: "use" or "admin".
func ParseGrantRole(s string) (Role, error) {
	switch s {
	case "use":
		return RoleUse, nil
	case "admin":
		return RoleAdmin, nil
	}
	return RoleNone, fmt.Errorf("invalid role %q: expected use or admin", s)
}

// Grantable reports whether r may be stored in a grant.
func (r Role) Grantable() bool { return r == RoleUse || r == RoleAdmin }
