package acl

import "fmt"

// MaxNameLen bounds every name: users, groups, orgs, workspaces.
const MaxNameLen = 32

// ValidateName checks a user, group, org or workspace name: lowercase ASCII
// letters, digits and single hyphens, not at either end. "--" is reserved
// because host aliases use it to join owner and workspace
// (alice--alice-ws.coder), and "/" because IDs use it.
func ValidateName(kind, s string) error {
	if s == "" {
		return fmt.Errorf("%s name is empty", kind)
	}
	if len(s) > MaxNameLen {
		return fmt.Errorf("%s name %q is longer than %d characters", kind, s, MaxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-':
			if i == 0 || i == len(s)-1 {
				return fmt.Errorf("%s name %q must not start or end with a hyphen", kind, s)
			}
			if s[i-1] == '-' {
				return fmt.Errorf("%s name %q must not contain \"--\"", kind, s)
			}
		default:
			return fmt.Errorf("%s name %q may hold only lowercase letters, digits and hyphens", kind, s)
		}
	}
	return nil
}
