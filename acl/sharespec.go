package acl

import (
	"fmt"
	"strings"
)

// ShareSpec is one parsed entry of `--user alice:admin,bob` or
// `--group contractor:use`.
type ShareSpec struct {
	Kind SubjectKind
	Name string
	Role Role
}

// ParseShareSpecs parses the values of repeated --user or --group flags.
// Each value is a comma list of name[:role]; the role defaults to use. The
// same name twice is an error, so a command never means two things.
func ParseShareSpecs(kind SubjectKind, values []string) ([]ShareSpec, error) {
	var out []ShareSpec
	seen := map[string]bool{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			spec, err := parseShareItem(kind, item)
			if err != nil {
				return nil, err
			}
			if seen[spec.Name] {
				return nil, fmt.Errorf("%s %q is named more than once", kind, spec.Name)
			}
			seen[spec.Name] = true
			out = append(out, spec)
		}
	}
	return out, nil
}

// ParseShareNames parses the values of `sharing remove --user a,b`: names
// only, no roles.
func ParseShareNames(kind SubjectKind, values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			name := strings.TrimSpace(item)
			if strings.Contains(name, ":") {
				return nil, fmt.Errorf("invalid %s %q: a role is not expected here", kind, item)
			}
			if err := ValidateName(kind.String(), name); err != nil {
				return nil, fmt.Errorf("invalid %s %q: %w", kind, item, err)
			}
			if seen[name] {
				return nil, fmt.Errorf("%s %q is named more than once", kind, name)
			}
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

func parseShareItem(kind SubjectKind, item string) (ShareSpec, error) {
	item = strings.TrimSpace(item)
	if item == "" {
		return ShareSpec{}, fmt.Errorf("empty %s in share list", kind)
	}
	name, roleText, hasRole := strings.Cut(item, ":")
	if name == "" {
		return ShareSpec{}, fmt.Errorf("invalid %s %q: the name before the colon is empty", kind, item)
	}
	if err := ValidateName(kind.String(), name); err != nil {
		return ShareSpec{}, fmt.Errorf("invalid %s %q: %w", kind, item, err)
	}
	spec := ShareSpec{Kind: kind, Name: name, Role: RoleUse}
	if !hasRole {
		return spec, nil
	}
	if roleText == "" {
		return ShareSpec{}, fmt.Errorf("invalid %s %q: the role after the colon is empty: expected use or admin", kind, item)
	}
	role, err := ParseGrantRole(roleText)
	if err != nil {
		return ShareSpec{}, fmt.Errorf("invalid role %q for %s %q: expected use or admin", roleText, kind, name)
	}
	spec.Role = role
	return spec, nil
}
