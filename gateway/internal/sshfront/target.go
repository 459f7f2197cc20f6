package sshfront

import (
	"fmt"
	"strings"

	"github.com/wsgate/wsgate/acl"
)

// Target is the workspace an SSH login name asks for.
type Target struct {
	// Owner is empty for a bare name: the caller's own workspace, or the
	// only one shared with the caller under that name.
	Owner string
	Name  string
}

// String returns "owner/name", or the bare name.
func (t Target) String() string {
	if t.Owner == "" {
		return t.Name
	}
	return t.Owner + "/" + t.Name
}

// ParseTarget reads the SSH login name: "alice-ws", "alice/alice-ws" or
// "alice--alice-ws", each optionally followed by "."+suffix. It does no I/O.
func ParseTarget(login, suffix string) (Target, error) {
	s := login
	if suffix != "" {
		s = strings.TrimSuffix(s, "."+suffix)
	}
	t, qualified := Target{Name: s}, false
	if owner, name, ok := strings.Cut(s, "/"); ok {
		t, qualified = Target{Owner: owner, Name: name}, true
	} else if owner, name, ok := strings.Cut(s, "--"); ok {
		// Names never contain "--", so the first one is the separator.
		t, qualified = Target{Owner: owner, Name: name}, true
	}
	if qualified {
		if err := acl.ValidateName("user", t.Owner); err != nil {
			return Target{}, fmt.Errorf("invalid target %q: %w", login, err)
		}
	}
	if err := acl.ValidateName("workspace", t.Name); err != nil {
		return Target{}, fmt.Errorf("invalid target %q: %w", login, err)
	}
	return t, nil
}

// validSuffix checks a hostname suffix: dot-separated labels that are each
// valid names ("coder", "ws.example").
func validSuffix(s string) error {
	for label := range strings.SplitSeq(s, ".") {
		if err := acl.ValidateName("hostname suffix label", label); err != nil {
			return err
		}
	}
	return nil
}
